import { useQuery } from '@tanstack/react-query';
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import { get, type HealthAnswer } from '../api';
import { Chart, HashChoice, Loading, Problem, Section } from '../components';
import { duration, minuteLabel } from '../format';
import type { Route } from '../route';

const WINDOWS = ['15m', '1h', '6h', '24h'];

export function Health({ route, refresh }: { readonly route: Route; readonly refresh: number | false }) {
  const window_ = route.query.get('window') ?? '1h';
  const health = useQuery({
    queryKey: ['health', window_],
    queryFn: () => get<HealthAnswer>(`/api/health?window=${encodeURIComponent(window_)}`),
    refetchInterval: refresh,
  });
  const h = health.data;
  return (
    <Section
      title="Health"
      actions={
        <HashChoice label="Over the last" section="health" param="window" value={window_} options={WINDOWS} />
      }
    >
      {health.error ? <Problem error={health.error} /> : null}
      {health.isPending ? <Loading what="health" /> : null}
      {h ? (
        <>
          <dl className="facts big">
            <div>
              <dt>Committed</dt>
              <dd data-testid="committed">{h.outcomes.COMMITTED}</dd>
            </div>
            <div>
              <dt>Aborted</dt>
              <dd data-testid="aborted">{h.outcomes.ABORTED}</dd>
            </div>
            <div>
              <dt>Unfinished</dt>
              <dd>{h.outcomes.unfinished}</dd>
            </div>
            <div>
              <dt>p50</dt>
              <dd>{duration(h.latencyMs.p50)}</dd>
            </div>
            <div>
              <dt>p99</dt>
              <dd>{duration(h.latencyMs.p99)}</dd>
            </div>
          </dl>
          <div className="charts">
            <Chart title="Transactions per second (average per minute)">
              <LineChart data={h.perMinute}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="atMs" tickFormatter={minuteLabel} minTickGap={24} />
                <YAxis />
                <Tooltip
                  labelFormatter={(v) => minuteLabel(Number(v))}
                  formatter={(v) => Number(v).toFixed(2)}
                />
                <Line
                  type="monotone"
                  dataKey="perSecond"
                  name="created / s"
                  stroke="#1d4ed8"
                  dot={false}
                  isAnimationActive={false}
                />
              </LineChart>
            </Chart>
            <Chart title="Outcomes per minute">
              <BarChart data={h.perMinute}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="atMs" tickFormatter={minuteLabel} minTickGap={24} />
                <YAxis allowDecimals={false} />
                <Tooltip labelFormatter={(v) => minuteLabel(Number(v))} />
                <Legend />
                <Bar
                  dataKey="committed"
                  stackId="o"
                  name="committed"
                  fill="#15803d"
                  isAnimationActive={false}
                />
                <Bar dataKey="aborted" stackId="o" name="aborted" fill="#b91c1c" isAnimationActive={false} />
              </BarChart>
            </Chart>
            <Chart title="Latency per minute (created → finished)">
              <LineChart data={h.perMinute}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="atMs" tickFormatter={minuteLabel} minTickGap={24} />
                <YAxis unit=" ms" width={80} />
                <Tooltip
                  labelFormatter={(v) => minuteLabel(Number(v))}
                  formatter={(v) => duration(Number(v))}
                />
                <Legend />
                <Line
                  type="monotone"
                  dataKey="p50Ms"
                  name="p50"
                  stroke="#0f766e"
                  connectNulls
                  isAnimationActive={false}
                />
                <Line
                  type="monotone"
                  dataKey="p99Ms"
                  name="p99"
                  stroke="#b45309"
                  connectNulls
                  isAnimationActive={false}
                />
              </LineChart>
            </Chart>
          </div>
          <p className="muted small">
            From {h.source}
            {h.truncated ? '; the log is larger than what was read' : ''}.
          </p>
        </>
      ) : null}
    </Section>
  );
}
