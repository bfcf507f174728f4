// React bindings: components re-render when the client's state changes. React is a peer dependency of this entry
// point only; `import { BrokerClient } from '@broker-dev/client'` never loads it.

import { useCallback, useSyncExternalStore } from 'react';

/** The client's whole `state` ({ [name]: { event, id, data, value } }); re-renders after every event. */
export function useBrokerState(client) {
    return useSyncExternalStore(client.subscribe, client.getState, client.getState);
}

/**
 * The latest event named `name` ({ event, id, data, value }), or `undefined` before the first one; re-renders
 * only when that name's event changes.
 */
export function useBrokerEvent(client, name) {
    const getSnapshot = useCallback(() => client.state[name], [client, name]);
    return useSyncExternalStore(client.subscribe, getSnapshot, getSnapshot);
}
