import { useQueryClient } from '@tanstack/react-query';
import { type ReactElement, type ReactNode, useEffect, useId, useRef, useState } from 'react';
import { ResponsiveContainer } from 'recharts';
import { type ActionAnswer, ConsoleError, post, type TxState } from './api';
import { href } from './route';

/** An error as the page shows it: the problem's title and detail, never a blank page. */
export function Problem({ error }: { readonly error: unknown }) {
  const problem =
    error instanceof ConsoleError
      ? error
      : new ConsoleError(0, 'Unexpected error', error instanceof Error ? error.message : String(error));
  const current = problem.extra.current as { state?: string; outcome?: string; reason?: string } | undefined;
  return (
    <div role="alert" className="problem">
      <strong>
        {problem.title}
        {problem.status ? ` (${problem.status})` : ''}
      </strong>
      <p>{problem.message}</p>
      {current?.state ? (
        <p>
          It is now <StateBadge state={current.state as TxState} />
          {current.reason ? ` — ${current.reason}` : ''}. Nothing was changed.
        </p>
      ) : null}
      {problem.status === 401 ? (
        <p>
          Restart <code>npm run console</code> and open the URL it prints.
        </p>
      ) : null}
    </div>
  );
}

export function StateBadge({ state }: { readonly state: TxState | string }) {
  return <span className={`badge state-${state.toLowerCase()}`}>{state}</span>;
}

export function Loading({ what }: { readonly what: string }) {
  return (
    <p className="muted" aria-busy="true">
      Loading {what}…
    </p>
  );
}

export function Section({
  title,
  children,
  actions,
}: {
  title: string;
  children: ReactNode;
  actions?: ReactNode;
}) {
  const id = useId();
  return (
    <section aria-labelledby={id} className="panel">
      <div className="panel-head">
        <h2 id={id}>{title}</h2>
        {actions}
      </div>
      {children}
    </section>
  );
}

/**
 * A state-changing action in two steps: the server's preview of what it will do (nothing changes),
 * then a confirmation in a modal dialog, then the action. Either step's refusal is shown as it is.
 */
export function ConfirmAction({
  label,
  path,
  body,
  confirmLabel,
  danger,
}: {
  readonly label: string;
  /** The POST path; `?preview=1` is added for the preview. */
  readonly path: string;
  readonly body?: Record<string, unknown>;
  readonly confirmLabel: string;
  readonly danger?: boolean;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const queryClient = useQueryClient();
  const [busy, setBusy] = useState(false);
  const [preview, setPreview] = useState<string | null>(null);
  const [result, setResult] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const titleId = useId();
  const withPreview = `${path}${path.includes('?') ? '&' : '?'}preview=1`;

  async function start() {
    setError(null);
    setResult(null);
    setBusy(true);
    try {
      const answer = await post<ActionAnswer>(withPreview, body);
      setPreview(answer.message ?? 'No preview.');
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  // The dialog opens once the preview is on it, and forgets it when it closes (Escape included).
  useEffect(() => {
    if (preview !== null && !dialog.current?.open) dialog.current?.showModal();
  }, [preview]);

  async function confirm() {
    dialog.current?.close();
    setBusy(true);
    try {
      const answer = await post<ActionAnswer>(path, body);
      setResult(
        answer.message ??
          (answer.moved !== undefined
            ? `Moved ${answer.moved} message(s); ${answer.failed ?? 0} refused.`
            : 'Done.'),
      );
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
      await queryClient.invalidateQueries();
    }
  }

  return (
    <div className="action">
      <button type="button" className={danger ? 'danger' : ''} onClick={start} disabled={busy}>
        {label}
      </button>
      <dialog ref={dialog} aria-labelledby={titleId} className="confirm" onClose={() => setPreview(null)}>
        <h3 id={titleId}>{label.replace(/…$/, '')}?</h3>
        <p>This is what it will do:</p>
        <pre className="preview">{preview}</pre>
        <div className="buttons">
          <button type="button" className={danger ? 'danger' : 'primary'} onClick={confirm}>
            {confirmLabel}
          </button>
          <button type="button" onClick={() => dialog.current?.close()}>
            Cancel
          </button>
        </div>
      </dialog>
      {result ? (
        <p role="status" className="done">
          {result}
        </p>
      ) : null}
      {error ? <Problem error={error} /> : null}
    </div>
  );
}

/** A chart with its title as the figure's caption (charts are Recharts: SVG, keyboard-navigable). */
export function Chart({
  title,
  children,
  height = 220,
}: {
  readonly title: string;
  readonly children: ReactElement;
  readonly height?: number;
}) {
  const id = useId();
  return (
    <figure className="chart" aria-labelledby={id}>
      <figcaption id={id}>{title}</figcaption>
      <div style={{ width: '100%', height }}>
        <ResponsiveContainer>{children}</ResponsiveContainer>
      </div>
    </figure>
  );
}

/**
 * A choice kept in the page's address (`#/<section>?<param>=…`), so a view can be linked as it is
 * shown; a value given in the address that is not among `options` is shown as it is.
 */
export function HashChoice({
  label,
  section,
  param,
  value,
  options,
}: {
  readonly label: string;
  readonly section: string;
  readonly param: string;
  readonly value: string;
  readonly options: readonly string[];
}) {
  const id = useId();
  const known = options.includes(value);
  return (
    <div className="inline-field">
      <label htmlFor={id}>{label}</label>
      <select
        id={id}
        value={known ? value : ''}
        onChange={(e) => {
          window.location.hash = href([section], { [param]: e.target.value });
        }}
      >
        {known ? null : <option value="">{value}</option>}
        {options.map((o) => (
          <option key={o}>{o}</option>
        ))}
      </select>
    </div>
  );
}
