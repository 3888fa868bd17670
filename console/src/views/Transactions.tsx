import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { type FormEvent, useId } from 'react';
import { get, STATES, type TxList } from '../api';
import { Loading, Problem, Section, StateBadge } from '../components';
import { clock, duration } from '../format';
import { href, type Route } from '../route';

const FILTERS = ['state', 'outcome', 'mode', 'participant', 'from', 'to', 'q'] as const;

/** `datetime-local` (local time, no zone) ↔ the API's ISO 8601 instant. */
const toLocalInput = (iso: string | null) => {
  if (!iso) return '';
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return '';
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
};
const fromLocalInput = (value: string) => (value ? new Date(value).toISOString() : '');

export function Transactions({
  route,
  refresh,
}: {
  readonly route: Route;
  readonly refresh: number | false;
}) {
  const query = new URLSearchParams();
  for (const key of [...FILTERS, 'cursor', 'limit']) {
    const value = route.query.get(key);
    if (value) query.set(key, value);
  }
  const list = useQuery({
    queryKey: ['transactions', query.toString()],
    queryFn: () => get<TxList>(`/api/transactions?${query}`),
    refetchInterval: refresh,
    placeholderData: keepPreviousData,
  });

  function apply(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const next = new URLSearchParams();
    for (const key of FILTERS) {
      let value = String(form.get(key) ?? '').trim();
      if (key === 'from' || key === 'to') value = fromLocalInput(value);
      if (value) next.set(key, value);
    }
    window.location.hash = href(['transactions'], next);
  }

  const withFilter = (key: string, value: string) => {
    const next = new URLSearchParams(route.query);
    next.delete('cursor');
    next.set(key, value);
    return href(['transactions'], next);
  };
  const older = (cursor: string) => {
    const next = new URLSearchParams(route.query);
    next.set('cursor', cursor);
    return href(['transactions'], next);
  };

  return (
    <>
      <Section title="Transactions">
        <form
          className="filters"
          onSubmit={apply}
          aria-label="Filter transactions"
          key={route.query.toString()}
        >
          <TextFilter label="Id or idempotency key" name="q" route={route} placeholder="tx_… or your key" />
          <ChoiceFilter label="State" name="state" route={route} options={STATES} />
          <ChoiceFilter label="Outcome" name="outcome" route={route} options={['COMMITTED', 'ABORTED']} />
          <ChoiceFilter label="Mode" name="mode" route={route} options={['two-phase', 'one-phase']} />
          <TextFilter label="Participant" name="participant" route={route} placeholder="ledger-0" />
          <TextFilter label="Created from" name="from" route={route} type="datetime-local" />
          <TextFilter label="Created to" name="to" route={route} type="datetime-local" />
          <div className="filter-buttons">
            <button type="submit" className="primary">
              Apply
            </button>
            <a href={href(['transactions'])}>Clear</a>
          </div>
        </form>
        {list.data ? (
          <ul className="counts" aria-label="Counts by state">
            {STATES.map((s) => (
              <li key={s}>
                <a href={withFilter('state', s)}>
                  <StateBadge state={s} /> <span data-count={s}>{list.data.countsByState[s] ?? 0}</span>
                </a>
              </li>
            ))}
          </ul>
        ) : null}
      </Section>
      <Section title={list.data ? `${list.data.total} matching` : 'Matching'}>
        {list.error ? <Problem error={list.error} /> : null}
        {list.isPending ? <Loading what="transactions" /> : null}
        {list.data ? (
          <>
            <table className="list">
              <caption className="sr-only">Transactions, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Transaction</th>
                  <th scope="col">State</th>
                  <th scope="col">Mode</th>
                  <th scope="col">Participants</th>
                  <th scope="col">Created</th>
                  <th scope="col">Took</th>
                  <th scope="col">Why not finished / reason</th>
                </tr>
              </thead>
              <tbody>
                {list.data.items.map((t) => (
                  <tr key={t.txId} data-tx={t.txId}>
                    <td>
                      <a href={href(['tx', t.txId])} className="mono">
                        {t.txId}
                      </a>
                    </td>
                    <td>
                      <StateBadge state={t.state} />
                    </td>
                    <td>{t.mode}</td>
                    <td>{t.participants.join(', ')}</td>
                    <td>{clock(t.createdAtMs)}</td>
                    <td>{t.completedAtMs !== null ? duration(t.completedAtMs - t.createdAtMs) : '—'}</td>
                    <td className="why">{t.whyNotFinished ?? t.reason ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {list.data.items.length === 0 ? <p className="muted">No transaction matches.</p> : null}
            <nav className="pager" aria-label="Pages">
              {route.query.get('cursor') ? <a href={withFilter('cursor', '')}>Newest</a> : null}
              {list.data.nextCursor ? <a href={older(list.data.nextCursor)}>Older →</a> : null}
            </nav>
            <p className="muted small">
              {list.data.scan.how}: {list.data.scan.records} record(s) read
              {list.data.scan.truncated ? ' — the log is larger; counts cover what was read' : ''}.
            </p>
          </>
        ) : null}
      </Section>
    </>
  );
}

/** A labelled text (or time) filter, filled from the page's query. */
function TextFilter({
  label,
  name,
  route,
  placeholder,
  type,
}: {
  readonly label: string;
  readonly name: (typeof FILTERS)[number];
  readonly route: Route;
  readonly placeholder?: string;
  readonly type?: 'datetime-local';
}) {
  const id = useId();
  const value = route.query.get(name);
  return (
    <div>
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        name={name}
        type={type ?? 'text'}
        defaultValue={type === 'datetime-local' ? toLocalInput(value) : (value ?? '')}
        {...(placeholder ? { placeholder } : {})}
      />
    </div>
  );
}

/** A labelled choice among `options`, or any. */
function ChoiceFilter({
  label,
  name,
  route,
  options,
}: {
  readonly label: string;
  readonly name: (typeof FILTERS)[number];
  readonly route: Route;
  readonly options: readonly string[];
}) {
  const id = useId();
  return (
    <div>
      <label htmlFor={id}>{label}</label>
      <select id={id} name={name} defaultValue={route.query.get(name) ?? ''}>
        <option value="">any</option>
        {options.map((o) => (
          <option key={o}>{o}</option>
        ))}
      </select>
    </div>
  );
}
