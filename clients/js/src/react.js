// React bindings: components re-render when the client's state changes. React is a peer dependency of this entry
// point only; `import { BrokerClient } from '@broker-dev/client'` never loads it.

import { createContext, createElement, useCallback, useContext, useSyncExternalStore } from 'react';

const BrokerContext = createContext(null);

/** Makes `client` the one the hooks use below it when they are called without a client. */
export function BrokerProvider({ client, children }) {
    return createElement(BrokerContext.Provider, { value: client }, children);
}

/** The client from the nearest BrokerProvider. */
export function useBrokerClient() {
    const client = useContext(BrokerContext);
    if (!client) {
        throw new Error('no BrokerClient: pass one to the hook or wrap the tree in <BrokerProvider client={...}>');
    }
    return client;
}

function useClient(client) {
    const provided = useContext(BrokerContext);
    const chosen = client ?? provided;
    if (!chosen) {
        throw new Error('no BrokerClient: pass one to the hook or wrap the tree in <BrokerProvider client={...}>');
    }
    return chosen;
}

/**
 * The client's whole state ({ [name]: { event, id, data, value } }); re-renders after every event.
 * `useBrokerState(client)`, or `useBrokerState()` under a BrokerProvider.
 */
export function useBrokerState(client) {
    const chosen = useClient(client);
    return useSyncExternalStore(chosen.subscribe, chosen.getState, chosen.getState);
}

/**
 * The latest event named `name` ({ event, id, data, value }), or `undefined` before the first one; re-renders
 * only when that name's event changes. `useBrokerEvent(client, name)`, or `useBrokerEvent(name)` under a
 * BrokerProvider.
 */
export function useBrokerEvent(clientOrName, maybeName) {
    const named = typeof clientOrName === 'string';
    const chosen = useClient(named ? undefined : clientOrName);
    const name = named ? clientOrName : maybeName;
    const getSnapshot = useCallback(() => chosen.state[name], [chosen, name]);
    return useSyncExternalStore(chosen.subscribe, getSnapshot, getSnapshot);
}
