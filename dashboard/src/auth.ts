// Sign-in. make dev: the dev server's POST /_dev/token mints a local token for a chosen user
// and roles. Deployed: the OIDC issuer's hosted login, authorization code with PKCE.
import { config } from "./config";

const TOKEN_KEY = "tollgate.token";
const PKCE_KEY = "tollgate.pkce";

export interface Session {
  token: string;
  sub: string;
  roles: string[];
  exp: number;
}

function decode(token: string): Session | null {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const claims = JSON.parse(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), "=")));
    const raw = claims.roles ?? claims["cognito:groups"] ?? [];
    const roles = Array.isArray(raw) ? raw.map(String) : String(raw).split(/[\s,]+/).filter(Boolean);
    return { token, sub: String(claims.sub), roles, exp: Number(claims.exp ?? 0) };
  } catch {
    return null;
  }
}

export function session(): Session | null {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const s = token ? decode(token) : null;
  if (!s || s.exp * 1000 < Date.now()) return null;
  return s;
}

export function signOut(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

export async function devSignIn(sub: string, roles: string[]): Promise<void> {
  const res = await fetch("_dev/token", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ sub, roles }),
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok || typeof body.token !== "string") throw new Error(body.error?.message ?? `sign-in failed (${res.status})`);
  sessionStorage.setItem(TOKEN_KEY, body.token);
}

// ---- OIDC: authorization code + PKCE (S256) -------------------------------------------

interface Discovery {
  authorization_endpoint: string;
  token_endpoint: string;
}

async function discover(): Promise<Discovery> {
  const issuer = (config().oidcIssuer ?? "").replace(/\/+$/, "");
  const res = await fetch(`${issuer}/.well-known/openid-configuration`);
  if (!res.ok) throw new Error(`OIDC discovery failed (${res.status})`);
  return (await res.json()) as Discovery;
}

function b64url(bytes: ArrayBuffer | Uint8Array): string {
  const arr = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let s = "";
  arr.forEach((b) => (s += String.fromCharCode(b)));
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function redirectUri(): string {
  return window.location.origin + window.location.pathname;
}

export async function oidcSignIn(): Promise<void> {
  const { authorization_endpoint } = await discover();
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  const state = b64url(crypto.getRandomValues(new Uint8Array(16)));
  const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state, back: window.location.hash }));
  const params = new URLSearchParams({
    response_type: "code",
    client_id: config().oidcClientId ?? "",
    redirect_uri: redirectUri(),
    scope: config().oidcScope ?? "openid email",
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  window.location.assign(`${authorization_endpoint}?${params}`);
}

/** On return from the issuer (?code=&state=): exchange the code; true when signed in. */
export async function completeOidc(): Promise<boolean> {
  const query = new URLSearchParams(window.location.search);
  const code = query.get("code");
  const saved = sessionStorage.getItem(PKCE_KEY);
  if (!code || !saved) return false;
  sessionStorage.removeItem(PKCE_KEY);
  const { verifier, state, back } = JSON.parse(saved);
  if (query.get("state") !== state) throw new Error("sign-in state mismatch");
  const { token_endpoint } = await discover();
  const res = await fetch(token_endpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code,
      redirect_uri: redirectUri(),
      client_id: config().oidcClientId ?? "",
      code_verifier: verifier,
    }),
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.error_description ?? body.error ?? `token exchange failed (${res.status})`);
  // The API's JWT authorizer checks the access token (Cognito: client_id; others: aud).
  sessionStorage.setItem(TOKEN_KEY, body.access_token ?? body.id_token);
  window.history.replaceState(null, "", redirectUri() + (back || "#/"));
  return true;
}
