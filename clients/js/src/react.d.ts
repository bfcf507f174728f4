// Types of @broker-dev/client/react.
import type { BrokerClient, BrokerState, BrokerStateEntry } from './index.js';

/** The client's whole state; the component re-renders after every event. */
export declare function useBrokerState(client: BrokerClient): BrokerState;
/** The latest event of one name, `undefined` before it arrives; re-renders when that name's event changes. */
export declare function useBrokerEvent(client: BrokerClient, name: string): BrokerStateEntry | undefined;
