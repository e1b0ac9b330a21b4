/** The dashboard's two live connections, shared by every screen, and hooks to re-render when they change. */
import { useEffect, useState } from 'preact/hooks';
import { MillraceClient, type ConnectionState } from '../client/millrace-client';
import { StatsFeed } from '../data/feed';

export const feed = new StatsFeed();
export const client = new MillraceClient();

/** Re-renders on every stats event or feed state change. */
export function useFeed(): StatsFeed {
  const [, setTick] = useState(0);
  useEffect(() => feed.subscribe(() => setTick((t) => t + 1)), []);
  return feed;
}

export function useClientState(): ConnectionState {
  const [state, setState] = useState(client.state);
  useEffect(() => client.onStateChange(setState), []);
  return state;
}

/** The current hash route, split into segments: '#/topics/orders' → ['topics', 'orders']. */
export function useRoute(): string[] {
  const read = () => window.location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const onChange = () => setRoute(read());
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

export function topicHref(name: string): string {
  return `#/topics/${encodeURIComponent(name)}`;
}
