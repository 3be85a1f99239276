// Prints the dashboard's panels and their PromQL queries:
//   node test/monitoring/list-panels.ts
import { loadDashboard, renderPanelList } from './dashboard.ts';

console.log(renderPanelList(loadDashboard()));
