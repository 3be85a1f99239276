#!/usr/bin/env node
// Upgrade shim: the image's default entry point (`ENTRYPOINT`) names this path; the program is in cmd/worker/.
import '../cmd/worker/main.ts';
