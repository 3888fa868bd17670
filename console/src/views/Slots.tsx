import { useQuery } from '@tanstack/react-query';
import { Bar, BarChart, CartesianGrid, Tooltip, XAxis, YAxis } from 'recharts';
import { get, type SlotsAnswer } from '../api';
import { Chart, Loading, Problem, Section } from '../components';
import { duration } from '../format';

export function Slots({ refresh }: { readonly refresh: number | false }) {
  const slots = useQuery({
    queryKey: ['slots'],
    queryFn: () => get<SlotsAnswer>('/api/slots'),
    refetchInterval: refresh,
  });
  return (
    <Section title="Slots">
      <p className="muted">
        Each slot is a lease: its owner (a coordinator environment) and epoch fence every decision written in
        it. The backlog is the slot's live transactions.
      </p>
      {slots.error ? <Problem error={slots.error} /> : null}
      {slots.isPending ? <Loading what="slots" /> : null}
      {slots.data ? (
        <>
          <Chart title="Live transactions per slot" height={180}>
            <BarChart data={slots.data.slots} margin={{ top: 8, right: 16, bottom: 8, left: 8 }}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="slot" />
              <YAxis allowDecimals={false} />
              <Tooltip />
              <Bar dataKey="backlog" name="backlog" fill="#1d4ed8" isAnimationActive={false} />
            </BarChart>
          </Chart>
          <table className="list">
            <caption className="sr-only">Slots</caption>
            <thead>
              <tr>
                <th scope="col">Slot</th>
                <th scope="col">Owner</th>
                <th scope="col">Epoch</th>
                <th scope="col">Lease</th>
                <th scope="col">Backlog</th>
              </tr>
            </thead>
            <tbody>
              {slots.data.slots.map((s) => (
                <tr key={s.slot}>
                  <th scope="row">{s.slot}</th>
                  <td className="mono">{s.owner ?? <span className="muted">never taken</span>}</td>
                  <td>{s.epoch ?? '—'}</td>
                  <td>
                    {s.leaseLeftMs === null
                      ? '—'
                      : s.leaseLeftMs > 0
                        ? `expires in ${duration(s.leaseLeftMs)}`
                        : `expired ${duration(-s.leaseLeftMs)} ago`}
                  </td>
                  <td>{s.backlog}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </Section>
  );
}
