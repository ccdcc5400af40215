// The cellular guest run (test/vm-cell.test.ts): every scenario in one node process, since
// starting node with the project's native add-ons costs seconds under TCG. Each scenario starts
// its own fake modem and its own Network, and checks that it left nothing behind.
import { finish } from './cell-lab.js';
import * as connect from './connect.js';
import * as sim from './sim.js';
import * as network from './network.js';
import * as noCarrier from './no-carrier.js';
import * as killed from './killed.js';

// killed.ts starts this script again as the nicup it kills.
if (process.argv.includes('--killed-child')) await killed.child();

await connect.run();
await sim.run();
await network.run();
await noCarrier.run();
await killed.run();
finish('cellular');
