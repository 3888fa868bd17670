import { useQuery } from '@tanstack/react-query';
import { get, type StuckAnswer } from '../api';
import { ConfirmAction, HashChoice, Loading, Problem, Section, StateBadge } from '../components';
import { duration } from '../format';
import { href, type Route } from '../route';

const AGES = ['5s', '30s', '1m', '5m', '15m', '1h', '6h', '24h'];

export function Stuck({ route, refresh }: { readonly route: Route; readonly refresh: number | false }) {
  const olderThan = route.query.get('olderThan') ?? '1m';
  const report = useQuery({
    queryKey: ['stuck', olderThan],
    queryFn: () => get<StuckAnswer>(`/api/stuck?olderThan=${encodeURIComponent(olderThan)}`),
    refetchInterval: refresh,
  });
  return (
    <Section
      title="Stuck"
      actions={
        <HashChoice
          label="Unfinished for more than"
          section="stuck"
          param="olderThan"
          value={olderThan}
          options={AGES}
        />
      }
    >
      <p className="muted">
        Transactions not finished after this long, or whose next check is this late. <em>Retry</em> enqueues a
        check now; <em>abort</em> decides ABORT only while there is no decision — a recorded decision is never
        changed.
      </p>
      {report.error ? <Problem error={report.error} /> : null}
      {report.isPending ? <Loading what="stuck transactions" /> : null}
      {report.data ? (
        <>
          <table className="list">
            <caption className="sr-only">Stuck transactions, oldest first</caption>
            <thead>
              <tr>
                <th scope="col">Transaction</th>
                <th scope="col">State</th>
                <th scope="col">Age</th>
                <th scope="col">Next check</th>
                <th scope="col">Missing</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {report.data.stuck.map((s) => (
                <tr key={s.txId} data-tx={s.txId}>
                  <td>
                    <a className="mono" href={href(['tx', s.txId])}>
                      {s.txId}
                    </a>
                  </td>
                  <td>
                    <StateBadge state={s.state} />
                  </td>
                  <td>{duration(s.ageMs)}</td>
                  <td>
                    {s.overdueMs === null
                      ? 'none scheduled'
                      : s.overdueMs > 0
                        ? `overdue ${duration(s.overdueMs)}`
                        : `in ${duration(-s.overdueMs)}`}
                  </td>
                  <td>
                    {s.missing.participants.length
                      ? `${s.missing.kind}: ${s.missing.participants.join(', ')}`
                      : '—'}
                  </td>
                  <td className="actions">
                    <ConfirmAction
                      label="Retry…"
                      path={`/api/transactions/${encodeURIComponent(s.txId)}/retry`}
                      confirmLabel="Retry it"
                    />
                    <ConfirmAction
                      label="Abort…"
                      path={`/api/transactions/${encodeURIComponent(s.txId)}/abort`}
                      body={{ note: 'from the console' }}
                      confirmLabel="Abort it"
                      danger
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {report.data.stuck.length === 0 ? <p className="muted">Nothing is stuck.</p> : null}
          <p className="muted small">
            {report.data.total} stuck of {report.data.scanned} live transaction(s) read
            {report.data.truncated ? ' (the index holds more)' : ''}.
          </p>
        </>
      ) : null}
    </Section>
  );
}
