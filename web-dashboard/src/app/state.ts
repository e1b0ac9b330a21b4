/** The dashboard's two live connections, shared by every screen, and hooks to re-render when they change. */
import { useEffect, useState } from 'preact/hooks';
import { MillraceClient, MillraceError, type ConnectionState, type TopicDescription } from '../client/millrace-client';
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

/** How often a shown topic's partitions are asked for: as often as the stats frame comes. */
export const DESCRIBE_INTERVAL_MS = 1000;

/**
 * One topic's full description (leader, replicas and ISR of every partition), asked for over the client every
 * second while the component is shown: the stats frame only sums topics up, so that it stays small however many
 * partitions the cluster has. `error` is the last failure (the topic was deleted, say); the last description stays.
 */
export function useTopicDescription(name: string): { topic?: TopicDescription; error?: MillraceError } {
  const [state, setState] = useState<{ topic?: TopicDescription; error?: MillraceError }>({});
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    setState({});
    const ask = () => {
      client.describeTopic(name).then(
        (topic) => { if (!stopped) setState({ topic }); },
        (error: MillraceError) => { if (!stopped) setState((s) => ({ topic: s.topic, error })); },
      ).finally(() => {
        if (!stopped) timer = setTimeout(ask, DESCRIBE_INTERVAL_MS);
      });
    };
    ask();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, [name]);
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
