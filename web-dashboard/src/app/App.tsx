import { useEffect } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import { useClientState, useFeed, useRoute } from './state';
import { ClusterScreen } from './screens/Cluster';
import { TopicsScreen } from './screens/Topics';
import { TopicDetailScreen } from './screens/TopicDetail';
import { ThroughputScreen } from './screens/Throughput';
import { GroupsScreen } from './screens/Groups';
import { EmptyState } from './components/EmptyState';

const NAV = [
  { id: 'cluster', label: 'Cluster', icon: 'M4 5h16v5H4zM4 14h16v5H4zM7 7.5h.01M7 16.5h.01' },
  { id: 'topics', label: 'Topics', icon: 'M4 6h16M4 12h16M4 18h10' },
  { id: 'throughput', label: 'Throughput', icon: 'M3 17l5-6 4 4 8-10' },
  { id: 'groups', label: 'Consumer groups', icon: 'M8 11a3 3 0 100-6 3 3 0 000 6zM16 11a3 3 0 100-6 3 3 0 000 6zM2 20c0-3 3-5 6-5s6 2 6 5M14 15c3 0 8 1 8 5' },
];

export function App() {
  const route = useRoute();
  const feed = useFeed();
  const clientState = useClientState();
  const section = route[0] ?? 'cluster';

  useEffect(() => {
    const title = section === 'topics' && route[1] ? route[1] : NAV.find((n) => n.id === section)?.label;
    document.title = title ? `${title} · Millrace` : 'Millrace';
  }, [section, route[1]]);

  const live = feed.state === 'live';
  const disconnected = feed.state === 'reconnecting' || clientState === 'reconnecting';

  let screen: ComponentChildren;
  if (!feed.latest) {
    screen = feed.state === 'reconnecting'
      ? <EmptyState title="Cannot reach the broker" tone="error">Reconnecting by itself; this page fills in as soon as the broker answers.</EmptyState>
      : <EmptyState title="Connecting to the broker…" tone="loading">Waiting for the first live stats.</EmptyState>;
  } else if (section === 'cluster') {
    screen = <ClusterScreen />;
  } else if (section === 'topics' && route[1]) {
    screen = <TopicDetailScreen name={route[1]} />;
  } else if (section === 'topics') {
    screen = <TopicsScreen />;
  } else if (section === 'throughput') {
    screen = <ThroughputScreen />;
  } else if (section === 'groups') {
    screen = <GroupsScreen />;
  } else {
    screen = <EmptyState title="Page not found" tone="empty">
      There is no page <code>#{route.join('/')}</code>. <a href="#/cluster">Go to the cluster overview</a>.
    </EmptyState>;
  }

  return (
    <div class="shell">
      <aside class="sidebar">
        <a class="brand" href="#/cluster" aria-label="Millrace home">
          <svg viewBox="0 0 32 32" width="28" height="28" aria-hidden="true">
            <rect width="32" height="32" rx="7" fill="#4f46e5" />
            <path d="M6 21c4 0 4-6 8-6s4 6 8 6 4-6 4-6" stroke="white" stroke-width="3" fill="none" stroke-linecap="round" />
          </svg>
          <span>Millrace</span>
        </a>
        <nav class="nav" aria-label="Screens">
          {NAV.map((item) => (
            <a href={`#/${item.id}`} class={section === item.id ? 'nav-item active' : 'nav-item'}
               aria-current={section === item.id ? 'page' : undefined} data-nav={item.id}>
              <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true">
                <path d={item.icon} fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" />
              </svg>
              <span>{item.label}</span>
            </a>
          ))}
        </nav>
        <div class="sidebar-foot">
          <span class={`pill ${live && !disconnected ? 'pill-ok' : 'pill-warn'}`} data-testid="connection-pill">
            <span class="dot" />{live && !disconnected ? 'Live' : feed.state === 'connecting' ? 'Connecting' : 'Reconnecting'}
          </span>
          {feed.latest?.brokerId !== undefined && (
            <span class="muted small" data-testid="connected-broker" title={connectedTo(feed.url)}>
              {live ? 'connected to' : 'last heard from'} broker {feed.latest.brokerId}
            </span>
          )}
        </div>
      </aside>
      <main class="main">
        {disconnected && (
          <div class="banner banner-warn" role="status" data-testid="disconnected-banner">
            <span class="spinner" aria-hidden="true" />
            <span><strong>Disconnected — reconnecting…</strong> Figures below are from the last update and are not live.</span>
          </div>
        )}
        {live && feed.latest?.problems && feed.latest.problems.length > 0 && (
          <div class="banner banner-error" role="alert">
            {feed.latest.problems.map((p) => <div>{p}</div>)}
          </div>
        )}
        {screen}
      </main>
    </div>
  );
}

/** Where the stats stream comes from, for the tooltip: the page's own broker or another one's address. */
function connectedTo(url: string): string {
  try {
    return `stats from ${new URL(url, window.location.href).host}`;
  } catch {
    return url;
  }
}
