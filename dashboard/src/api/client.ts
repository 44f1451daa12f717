// A small typed client over fetch: the bearer token, JSON bodies, and the API's error shape
// ({"error": {"code", "message", ...}}; API Gateway's own answers are {"message"}).
import type { components } from "./schema";
import { config } from "../config";
import { session } from "../auth";

export type Schemas = components["schemas"];

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
  }
}

export interface RequestOptions {
  query?: Record<string, string | number | undefined | null>;
  body?: unknown;
  idempotencyKey?: string;
}

export async function api<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const url = new URL(config().apiBaseUrl + path, window.location.href);
  for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, String(v));
  const headers: Record<string, string> = {};
  const token = session()?.token;
  if (token) headers.Authorization = `Bearer ${token}`;
  if (opts.body !== undefined) headers["Content-Type"] = "application/json";
  if (opts.idempotencyKey) headers["Idempotency-Key"] = opts.idempotencyKey;
  let res: Response;
  try {
    res = await fetch(url, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  } catch (err) {
    throw new ApiError(0, "network_error", `The API could not be reached (${(err as Error).message})`, null);
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  if (!res.ok) {
    const b = body as { error?: { code?: string; message?: string }; message?: string } | null;
    const code = b?.error?.code ?? (res.status === 401 ? "unauthorized" : "http_" + res.status);
    const message = b?.error?.message ?? b?.message ?? `HTTP ${res.status}`;
    throw new ApiError(res.status, code, message, body);
  }
  return body as T;
}

export function newIdempotencyKey(prefix: string): string {
  return `${prefix}-${crypto.randomUUID()}`;
}

export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.code && !err.code.startsWith("http_") ? `${err.message} (${err.code})` : err.message;
  return err instanceof Error ? err.message : String(err);
}
