// Types of @broker-dev/client/react.
import type { BrokerClient, BrokerState, BrokerStateEntry } from './index.js';

/** Makes `client` the one the hooks use below it when called without a client (returns a React element). */
export declare function BrokerProvider(props: { client: BrokerClient; children?: unknown }): any;
/** The client of the nearest BrokerProvider; throws without one. */
export declare function useBrokerClient(): BrokerClient;
/** The client's whole state; the component re-renders after every event. */
export declare function useBrokerState(client?: BrokerClient): BrokerState;
/** The latest event of one name, `undefined` before it arrives; re-renders when that name's event changes. */
export declare function useBrokerEvent(client: BrokerClient, name: string): BrokerStateEntry | undefined;
/** The same, with the client of the nearest BrokerProvider. */
export declare function useBrokerEvent(name: string): BrokerStateEntry | undefined;
