/** The default driver for each kind of interface. */
import type { InterfaceKind } from '../nic.js';
import type { DriverFactory } from './session.js';
import { createEthernetDriver } from './ethernet-driver.js';
import { createWifiDriver } from './wifi-driver.js';
import { createCellDriver } from './cell-driver.js';

export const defaultDrivers: Partial<Record<InterfaceKind, DriverFactory>> = {
  ethernet: createEthernetDriver,
  wifi: createWifiDriver,
  cell: createCellDriver,
};
