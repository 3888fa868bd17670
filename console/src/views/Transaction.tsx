import { useQuery } from '@tanstack/react-query';
import {
  CartesianGrid,
  Legend,
  ReferenceLine,
  ResponsiveContainer,
  Scatter,
  ScatterChart,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { get, type TxDetail } from '../api';
import { ConfirmAction, Loading, Problem, Section, StateBadge } from '../components';
import { clock, duration } from '../format';
import { KIND_LABELS, type StepKind, type TimelinePoint, timelineOf } from '../timeline';

/** Colour and shape per kind; colours pass 3:1 against the white plot (WCAG non-text contrast). */
const KIND_STYLE: Record<
  StepKind,
  { fill: string; shape: 'circle' | 'diamond' | 'square' | 'triangle' | 'cross' | 'star' }
> = {
  step: { fill: '#4b5563', shape: 'circle' },
  'vote-yes': { fill: '#15803d', shape: 'triangle' },
  'vote-no': { fill: '#b91c1c', shape: 'cross' },
  decision: { fill: '#1d4ed8', shape: 'star' },
  ack: { fill: '#0f766e', shape: 'square' },
  retry: { fill: '#b45309', shape: 'diamond' },
};

export function Transaction({ txId, refresh }: { readonly txId: string; readonly refresh: number | false }) {
  const tx = useQuery({
    queryKey: ['transaction', txId],
    queryFn: () => get<TxDetail>(`/api/transactions/${encodeURIComponent(txId)}`),
    refetchInterval: refresh,
  });
  if (tx.error) {
    return (
      <Section title={`Transaction ${txId}`}>
        <Problem error={tx.error} />
      </Section>
    );
  }
  if (!tx.data) return <Loading what={`transaction ${txId}`} />;
  const t = tx.data;
  const path = `/api/transactions/${encodeURIComponent(t.txId)}`;
  return (
    <>
      <Section
        title={`Transaction ${t.txId}`}
        actions={
          <div className="actions">
            <ConfirmAction label="Retry…" path={`${path}/retry`} confirmLabel="Retry it" />
            <ConfirmAction
              label="Abort…"
              path={`${path}/abort`}
              body={{ note: 'from the console' }}
              confirmLabel="Abort it"
              danger
            />
          </div>
        }
      >
        <dl className="facts">
          <div>
            <dt>State</dt>
            <dd data-testid="tx-state">
              <StateBadge state={t.state} />
            </dd>
          </div>
          <div>
            <dt>Mode</dt>
            <dd>{t.mode}</dd>
          </div>
          {t.reason ? (
            <div>
              <dt>Reason</dt>
              <dd data-testid="tx-reason">{t.reason}</dd>
            </div>
          ) : null}
          <div>
            <dt>Created</dt>
            <dd>{clock(t.createdAtMs)}</dd>
          </div>
          <div>
            <dt>Decided</dt>
            <dd>{t.decidedAtMs ? `after ${duration(t.decidedAtMs - t.createdAtMs)}` : '—'}</dd>
          </div>
          <div>
            <dt>Finished</dt>
            <dd>{t.completedAtMs ? `after ${duration(t.completedAtMs - t.createdAtMs)}` : '—'}</dd>
          </div>
          <div>
            <dt>Slot</dt>
            <dd>
              {t.coordinator.slot} (version {t.coordinator.version}, re-send round{' '}
              {t.coordinator.resendAttempt})
            </dd>
          </div>
        </dl>
        <p className={t.whyNotFinished ? 'why-box waiting' : 'why-box'} aria-live="polite" data-testid="why">
          {t.whyNotFinished ? `Not finished: ${t.whyNotFinished}.` : `Finished: ${t.state}.`}
        </p>
      </Section>
      <Section title="Participants">
        <table className="list">
          <thead>
            <tr>
              <th scope="col">Participant</th>
              <th scope="col">Kind</th>
              <th scope="col">Operations</th>
              <th scope="col">Vote</th>
              <th scope="col">Ack</th>
            </tr>
          </thead>
          <tbody>
            {t.participants.map((p) => (
              <tr key={p.id} data-participant={p.id}>
                <th scope="row">{p.id}</th>
                <td>{p.kind}</td>
                <td className="mono small">{p.operations.map((o) => JSON.stringify(o)).join('\n')}</td>
                <td>
                  {p.vote ? (
                    <span className={`vote vote-${p.vote.toLowerCase()}`}>{p.vote}</span>
                  ) : (
                    <span className="muted">waiting</span>
                  )}
                  {p.voteReason ? <span className="reason">: {p.voteReason}</span> : null}
                </td>
                <td>{p.ack ?? <span className="muted">—</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
      <Section title="Timeline">
        <TimelineChart tx={t} />
      </Section>
    </>
  );
}

function TimelineChart({ tx }: { readonly tx: TxDetail }) {
  const { lanes, points } = timelineOf(
    tx.createdAtMs,
    tx.participants.map((p) => p.id),
    tx.timeline,
  );
  const kinds = (Object.keys(KIND_STYLE) as StepKind[]).filter((k) => points.some((p) => p.kind === k));
  const decision = points.find((p) => p.kind === 'decision');
  const height = 90 + lanes.length * 44;
  return (
    <figure className="timeline" aria-label={`Timeline of ${tx.txId}: ${points.length} steps`}>
      <div style={{ width: '100%', height }} data-testid="timeline-chart">
        <ResponsiveContainer>
          <ScatterChart margin={{ top: 16, right: 24, bottom: 16, left: 24 }}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis
              type="number"
              dataKey="t"
              name="seconds since created"
              unit=" s"
              domain={[0, 'auto']}
              label={{ value: 'seconds since created', position: 'insideBottom', offset: -8 }}
            />
            <YAxis
              type="number"
              dataKey="row"
              name="lane"
              reversed
              domain={[-0.5, lanes.length - 0.5]}
              ticks={lanes.map((_, i) => i)}
              tickFormatter={(row: number) => lanes[row] ?? ''}
              interval={0}
              width={110}
            />
            {decision ? <ReferenceLine x={decision.t} stroke="#1d4ed8" strokeDasharray="4 2" /> : null}
            <Tooltip content={<StepTooltip />} />
            <Legend verticalAlign="top" />
            {kinds.map((kind) => (
              <Scatter
                key={kind}
                name={KIND_LABELS[kind]}
                data={points.filter((p) => p.kind === kind)}
                fill={KIND_STYLE[kind].fill}
                shape={KIND_STYLE[kind].shape}
                isAnimationActive={false}
              />
            ))}
          </ScatterChart>
        </ResponsiveContainer>
      </div>
      <figcaption>
        <details>
          <summary>
            Every step as text ({points.length}
            {tx.coordinator.timelineDroppedCount > 0
              ? `; ${tx.coordinator.timelineDroppedCount} older dropped`
              : ''}
            )
          </summary>
          <ol className="steps">
            {points.map((p, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: the timeline is append-only; its order is its identity
              <li key={i}>
                <span className="mono">+{duration(p.atMs - tx.createdAtMs)}</span>{' '}
                <span className={`kind kind-${p.kind}`}>{p.lane}</span> {p.event}
              </li>
            ))}
          </ol>
        </details>
      </figcaption>
    </figure>
  );
}

function StepTooltip({ active, payload }: { active?: boolean; payload?: Array<{ payload: TimelinePoint }> }) {
  const point = active ? payload?.[0]?.payload : undefined;
  if (!point) return null;
  return (
    <div className="tooltip">
      <strong>{point.event}</strong>
      <div>
        {point.lane} · +{point.t.toFixed(3)} s · {clock(point.atMs)}
      </div>
    </div>
  );
}
