/** The dashboard's two live connections, shared by every screen, and hooks to re-render when they change. */
import { useEffect, useState } from 'preact/hooks';
import { MillraceClient, MillraceError, type ConnectionState, type TopicDescription } from '../client/millrace-client';
import { StatsFeed } from '../data/feed';
import { ReassignmentApi, type MoveProgress } from '../data/reassignments';

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

/** How often a shown topic's partitions are asked for: as often as the stats frame comes. */
export const DESCRIBE_INTERVAL_MS = 1000;

/**
 * One topic's full description (leader, replicas and ISR of every partition), asked for over the client every
 * second while the component is shown: the stats frame only sums topics up, so that it stays small however many
 * partitions the cluster has. `error` is the last failure (the topic was deleted, say); the last description stays.
 */
export function useTopicDescription(name: string): { topic?: TopicDescription; error?: MillraceError } {
  const { value, error } = usePolled(() => client.describeTopic(name), DESCRIBE_INTERVAL_MS, name);
  return { topic: value, error };
}

/** How often the moves in progress are asked for while the cluster screen is open. */
export const REASSIGNMENTS_INTERVAL_MS = 1000;

/**
 * The broker the stats stream reads now, as the base of its REST URLs ('' for the page's own): after the page's broker
 * dies the feed moves to another, and reads that follow it go on working.
 */
export function feedBase(): string {
  try {
    const origin = new URL(feed.url, window.location.href).origin;
    return origin === window.location.origin ? '' : origin;
  } catch {
    return '';
  }
}

/**
 * The moves in progress, asked for every second while the component is shown, from the broker the stats stream
 * reads. `error` is the last failure (the last list stays); `refresh()` asks again now, after starting or cancelling.
 */
export function useReassignments(): { moves?: MoveProgress[]; error?: MillraceError; refresh: () => void } {
  const { value, error, refresh } = usePolled(() => new ReassignmentApi(feedBase()).list(),
    REASSIGNMENTS_INTERVAL_MS, 'reassignments');
  return { moves: value, error, refresh };
}

/**
 * Calls `load` now and `intervalMs` after each answer while the component is shown. A new `key` starts over with
 * nothing; a failure keeps the last value beside the error; `refresh()` asks again at once.
 */
function usePolled<T>(load: () => Promise<T>, intervalMs: number, key: string):
    { value?: T; error?: MillraceError; refresh: () => void } {
  const [state, setState] = useState<{ key: string; value?: T; error?: MillraceError }>({ key });
  const [asked, setAsked] = useState(0);
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ask = () => {
      load().then(
        (value) => { if (!stopped) setState({ key, value }); },
        (error: MillraceError) => {
          if (!stopped) setState((s) => ({ key, value: s.key === key ? s.value : undefined, error }));
        },
      ).finally(() => {
        if (!stopped) timer = setTimeout(ask, intervalMs);
      });
    };
    ask();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, [key, asked]);
  const current = state.key === key ? state : { key, value: undefined, error: undefined };
  return { value: current.value, error: current.error, refresh: () => setAsked((n) => n + 1) };
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
