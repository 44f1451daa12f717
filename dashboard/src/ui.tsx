// Shared pieces: the async-data hook, error display and the bar charts: by day, a Chart.js
// canvas loaded on demand (Chart.tsx) with a screen-reader table of the same figures; the
// ranked "top N" lists, HTML bars sized from exact millicredits.
import { Suspense, lazy, useCallback, useEffect, useState, type ReactNode } from "react";
import { errorMessage } from "./api/client";
import { maxMillis, permille } from "./credits";

const BarCanvas = lazy(() => import("./Chart"));

export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): {
  data: T | null;
  error: string | null;
  reload: () => void;
} {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    setError(null);
    load().then(
      (d) => live && setData(d),
      (e) => live && setError(errorMessage(e)),
    );
    return () => {
      live = false;
    };
  }, [...deps, n]);
  const reload = useCallback(() => setN((x) => x + 1), []);
  return { data, error, reload };
}

export function ErrorBox({ error }: { error: string | null }) {
  return error ? (
    <div className="error" role="alert">
      {error}
    </div>
  ) : null;
}

export function Card({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section className="card">
      <h2>{title}</h2>
      {children}
    </section>
  );
}

export interface Bar {
  label: string;
  value: string; // credits, a decimal string
  title?: string;
}

/** Vertical bars (by day: a Chart.js canvas) or horizontal bars (a ranked list, by feature).
 * `label` names the vertical chart for screen readers (the canvas is one image; the table
 * beside it, visible to screen readers only, gives every bar's label and exact value);
 * `category` heads the table's label column. */
export function BarChart({ bars, horizontal = false, label = "Bar chart", category = "Day" }: {
  bars: Bar[];
  horizontal?: boolean;
  label?: string;
  category?: string;
}) {
  if (!bars.length) return <p className="muted">No data.</p>;
  const max = maxMillis(bars.map((b) => b.value));
  if (max === 0n) return <p className="muted">Nothing in this period.</p>;
  if (horizontal) {
    return (
      <div className="hbars">
        {bars.map((b) => (
          <div className="hbar" key={b.label} title={b.title ?? `${b.label}: ${b.value}`}>
            <span className="hbar-label">{b.label}</span>
            <span className="hbar-track">
              <span className="hbar-fill" style={{ width: `${permille(b.value, max) / 10}%` }} />
            </span>
            <span className="hbar-value">{b.value}</span>
          </div>
        ))}
      </div>
    );
  }
  return (
    <div className="vchart">
      <div className="chart-box">
        <Suspense fallback={<p className="muted">Loading…</p>}>
          <BarCanvas bars={bars} label={label} />
        </Suspense>
      </div>
      <table className="sr-only">
        <caption>{label}</caption>
        <thead>
          <tr>
            <th scope="col">{category}</th>
            <th scope="col">Credits</th>
          </tr>
        </thead>
        <tbody>
          {bars.map((b) => (
            <tr key={b.label}>
              <td>{b.label}</td>
              <td>{b.value}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function Status({ value }: { value: string }) {
  return <span className={`status status-${value}`}>{value}</span>;
}
