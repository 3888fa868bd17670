import './app.css';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode, useId, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { ConsoleError, hasSession } from './api';
import { href, useRoute } from './route';
import { Health } from './views/Health';
import { Queues } from './views/Queues';
import { Slots } from './views/Slots';
import { Stuck } from './views/Stuck';
import { Transaction } from './views/Transaction';
import { Transactions } from './views/Transactions';

const REFRESH_MS = 5_000;

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // A 4xx does not get better by asking again; a dropped connection might.
      retry: (count, error) =>
        count < 2 && !(error instanceof ConsoleError && error.status >= 400 && error.status < 500),
      refetchOnWindowFocus: false,
    },
  },
});

const SECTIONS = [
  { parts: ['transactions'], label: 'Transactions' },
  { parts: ['stuck'], label: 'Stuck' },
  { parts: ['slots'], label: 'Slots' },
  { parts: ['queues'], label: 'Queues' },
  { parts: ['health'], label: 'Health' },
] as const;

function App() {
  const route = useRoute();
  const [auto, setAuto] = useState(true);
  const autoId = useId();
  const refresh = auto ? REFRESH_MS : false;
  const [section = 'transactions', arg] = route.parts;
  const current = section === 'tx' ? 'transactions' : section;
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header>
        <span className="brand">Tandem console</span>
        <nav aria-label="Sections">
          <ul>
            {SECTIONS.map((s) => (
              <li key={s.label}>
                <a href={href(s.parts)} aria-current={current === s.parts[0] ? 'page' : undefined}>
                  {s.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div className="inline-field">
          <input id={autoId} type="checkbox" checked={auto} onChange={(e) => setAuto(e.target.checked)} />
          <label htmlFor={autoId}>Auto-refresh every {REFRESH_MS / 1000} s</label>
        </div>
      </header>
      <main id="main">
        {hasSession() ? null : (
          <div role="alert" className="problem">
            <strong>No session</strong>
            <p>
              Open the URL <code>npm run console</code> printed (it carries this run's session token).
            </p>
          </div>
        )}
        {section === 'transactions' ? <Transactions route={route} refresh={refresh} /> : null}
        {section === 'tx' && arg ? <Transaction key={arg} txId={arg} refresh={refresh} /> : null}
        {section === 'stuck' ? <Stuck route={route} refresh={refresh} /> : null}
        {section === 'slots' ? <Slots refresh={refresh} /> : null}
        {section === 'queues' ? <Queues refresh={refresh} {...(arg ? { dlq: arg } : {})} /> : null}
        {section === 'health' ? <Health route={route} refresh={refresh} /> : null}
        {!['transactions', 'tx', 'stuck', 'slots', 'queues', 'health'].includes(section) ||
        (section === 'tx' && !arg) ? (
          <div role="alert" className="problem">
            <strong>Nothing here</strong>
            <p>
              There is no page <code>{window.location.hash}</code>.{' '}
              <a href={href(['transactions'])}>See the transactions</a>.
            </p>
          </div>
        ) : null}
      </main>
    </>
  );
}

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <QueryClientProvider client={queryClient}>
        <App />
      </QueryClientProvider>
    </StrictMode>,
  );
}
