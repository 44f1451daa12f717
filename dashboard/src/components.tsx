// Shared pieces of the purchases and admin pages: paginated lists ("Load more" over
// next_cursor), labelled form fields, idempotency keys reused when the same submission is
// retried, workflow steps, a copy button and text only screen readers see.
import { useCallback, useEffect, useId, useRef, useState, type CSSProperties, type ReactNode } from "react";
import { errorMessage, newIdempotencyKey } from "./api/client";

export interface Page<T> {
  data: T[];
  next_cursor?: string | null;
}

/**
 * A list read a page at a time: the first page when `deps` change (or on reload), then the
 * next one on `more()`, while the previous page gave a next_cursor.
 */
export function usePages<T>(load: (cursor: string | null) => Promise<Page<T>>, deps: unknown[]) {
  const [rows, setRows] = useState<T[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [n, setN] = useState(0);
  const generation = useRef(0);
  useEffect(() => {
    const gen = ++generation.current;
    setError(null);
    setLoading(true);
    load(null).then(
      (page) => {
        if (gen !== generation.current) return;
        setRows(page.data);
        setCursor(page.next_cursor ?? null);
        setLoaded(true);
        setLoading(false);
      },
      (e) => {
        if (gen !== generation.current) return;
        setRows([]);
        setCursor(null);
        setError(errorMessage(e));
        setLoading(false);
      },
    );
  }, [...deps, n]);
  const more = useCallback(async () => {
    if (!cursor) return;
    const gen = generation.current;
    setError(null);
    setLoading(true);
    try {
      const page = await load(cursor);
      if (gen !== generation.current) return;
      setRows((r) => [...r, ...page.data]);
      setCursor(page.next_cursor ?? null);
    } catch (e) {
      if (gen === generation.current) setError(errorMessage(e));
    } finally {
      if (gen === generation.current) setLoading(false);
    }
  }, [cursor, ...deps]);
  const reload = useCallback(() => setN((x) => x + 1), []);
  return { rows, cursor, loaded, loading, error, more, reload };
}

/** "Load more" while there is a next page; "None." when the list is empty. */
export function MoreButton({ list, empty = "None." }: {
  list: { rows: unknown[]; cursor: string | null; loaded: boolean; loading: boolean; more: () => void };
  empty?: string;
}) {
  return (
    <>
      {list.loaded && !list.rows.length && !list.loading && <p className="muted">{empty}</p>}
      {list.cursor && (
        <button className="secondary" onClick={list.more} disabled={list.loading}>
          {list.loading ? "Loading…" : "Load more"}
        </button>
      )}
    </>
  );
}

/**
 * Idempotency keys for a form: one key per submission attempt, reused when the user
 * retries the same submission (same body) after it failed or its answer was lost, so a
 * request the server did carry out is replayed, not repeated. A successful submission, or
 * a different body, gets a fresh key.
 */
export function useIdempotency(prefix: string) {
  const last = useRef<{ fingerprint: string; key: string } | null>(null);
  return {
    keyFor(body: unknown): string {
      const fingerprint = JSON.stringify(body);
      if (last.current?.fingerprint !== fingerprint) last.current = { fingerprint, key: newIdempotencyKey(prefix) };
      return last.current.key;
    },
    succeeded() {
      last.current = null;
    },
  };
}

/** A label tied to its input (or select, or textarea). */
export function Field({ label, children, hint }: {
  label: string;
  hint?: string;
  children: (id: string) => ReactNode;
}) {
  const id = useId();
  return (
    <span className="field">
      <label htmlFor={id}>{label}</label>{" "}
      {children(id)}
      {hint && <span className="muted"> {hint}</span>}
    </span>
  );
}

const HIDDEN: CSSProperties = {
  position: "absolute", width: 1, height: 1, padding: 0, margin: -1, overflow: "hidden",
  clip: "rect(0, 0, 0, 0)", whiteSpace: "nowrap", border: 0,
};

/** Text for screen readers only (an actions column's header, say). */
export function VisuallyHidden({ children }: { children: ReactNode }) {
  return <span style={HIDDEN}>{children}</span>;
}

/** A workflow's steps (refunds, payouts): name, status, error; when in the title. */
export function Steps({ steps }: { steps: { name: string; status: string; at: string; error?: string | null }[] }) {
  if (!steps.length) return <span className="muted">none yet</span>;
  return (
    <ol className="steps">
      {steps.map((s, i) => (
        <li key={i} title={s.at}>
          {s.name}: {s.status}{s.error ? ` (${s.error})` : ""}
        </li>
      ))}
    </ol>
  );
}

/** Copies `text` to the clipboard; says so (politely, to screen readers too). */
export function CopyButton({ text, label = "Copy" }: { text: string; label?: string }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      setState("copied");
    } catch {
      setState("failed");
    }
  }
  return (
    <>
      <button type="button" onClick={copy}>{label}</button>{" "}
      <span role="status" aria-live="polite">
        {state === "copied" ? "Copied." : state === "failed" ? "Could not copy: select the text and copy it." : ""}
      </span>
    </>
  );
}

/** A success note, announced. */
export function Note({ children }: { children: ReactNode }) {
  return children ? <p role="status">{children}</p> : null;
}
