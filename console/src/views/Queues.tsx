import { useQuery } from '@tanstack/react-query';
import { type DlqAnswer, get, type QueuesAnswer } from '../api';
import { ConfirmAction, Loading, Problem, Section } from '../components';
import { clock } from '../format';
import { href } from '../route';

export function Queues({ dlq, refresh }: { readonly dlq?: string; readonly refresh: number | false }) {
  const queues = useQuery({
    queryKey: ['queues'],
    queryFn: () => get<QueuesAnswer>('/api/queues'),
    refetchInterval: refresh,
  });
  return (
    <>
      <Section title="Queues">
        {queues.error ? <Problem error={queues.error} /> : null}
        {queues.isPending ? <Loading what="queues" /> : null}
        {queues.data ? (
          <table className="list">
            <caption className="sr-only">Every queue of the stack</caption>
            <thead>
              <tr>
                <th scope="col">Queue</th>
                <th scope="col">SQS name</th>
                <th scope="col">Waiting</th>
                <th scope="col">In flight</th>
                <th scope="col" />
              </tr>
            </thead>
            <tbody>
              {queues.data.queues.map((q) => (
                <tr
                  key={q.queue}
                  className={q.kind === 'dlq' && q.messages > 0 ? 'attention' : ''}
                  data-queue={q.dlqOf ?? q.name}
                >
                  <th scope="row">{q.name}</th>
                  <td className="mono small">{q.queue}</td>
                  <td>{q.messages}</td>
                  <td>{q.inFlight}</td>
                  <td>
                    {q.dlqOf ? <a href={href(['queues', q.dlqOf])}>Messages of {q.dlqOf}'s DLQ</a> : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </Section>
      {dlq ? <DeadLetters name={dlq} refresh={refresh} /> : null}
    </>
  );
}

function DeadLetters({ name, refresh }: { readonly name: string; readonly refresh: number | false }) {
  const shown = useQuery({
    queryKey: ['dlq', name],
    queryFn: () => get<DlqAnswer>(`/api/dlq/${encodeURIComponent(name)}?max=20`),
    refetchInterval: refresh,
  });
  return (
    <Section
      title={`Dead letters of ${name}`}
      actions={
        <ConfirmAction
          label="Redrive…"
          path={`/api/dlq/${encodeURIComponent(name)}/redrive?max=100`}
          confirmLabel="Redrive"
        />
      }
    >
      {shown.error ? <Problem error={shown.error} /> : null}
      {shown.isPending ? <Loading what={`the DLQ of ${name}`} /> : null}
      {shown.data ? (
        shown.data.messages.length === 0 ? (
          <p className="muted">The DLQ is empty.</p>
        ) : (
          <ul className="messages">
            {shown.data.messages.map((m) => (
              <li key={m.messageId} data-message={m.messageId}>
                <div className="small">
                  <span className="mono">{m.messageId}</span> · sent {clock(m.sentAtMs)} · received{' '}
                  {m.receiveCount} time(s)
                  {m.groupId ? ` · group ${m.groupId}` : ''}
                </div>
                {m.reason || m.error ? (
                  <div className="reason">
                    {m.reason ? <strong>{m.reason}</strong> : null} {m.error ?? ''}
                  </div>
                ) : null}
                <pre className="body">{m.body}</pre>
              </li>
            ))}
          </ul>
        )
      ) : null}
    </Section>
  );
}
