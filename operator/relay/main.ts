#!/usr/bin/env node
// Upgrade shim: every relay Deployment's command names this path (part of its pod-template hash);
// the program is in cmd/relay/.
import '../cmd/relay/main.ts';
