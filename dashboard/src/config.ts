// The dashboard's runtime configuration: config.json next to index.html (make dev's server
// writes it), else the build-time environment (VITE_* variables, for a deployed build).
export interface Config {
  apiBaseUrl: string;
  authMode: "dev" | "oidc";
  oidcIssuer?: string;
  oidcClientId?: string;
  oidcScope?: string;
  stripeJsUrl: string;
  stripePublishableKey?: string;
}

const env = import.meta.env;

function fromEnv(): Config {
  return {
    apiBaseUrl: env.VITE_API_BASE_URL ?? "",
    authMode: env.VITE_AUTH_MODE === "dev" ? "dev" : "oidc",
    oidcIssuer: env.VITE_OIDC_ISSUER,
    oidcClientId: env.VITE_OIDC_CLIENT_ID,
    oidcScope: env.VITE_OIDC_SCOPE,
    stripeJsUrl: env.VITE_STRIPE_JS_URL ?? "https://js.stripe.com/v3/",
    stripePublishableKey: env.VITE_STRIPE_PUBLISHABLE_KEY,
  };
}

let current: Config | null = null;

export async function loadConfig(): Promise<Config> {
  const base = fromEnv();
  try {
    const res = await fetch("config.json", { cache: "no-store" });
    if (res.ok) current = { ...base, ...((await res.json()) as Partial<Config>) };
  } catch {
    /* no config.json: build-time values */
  }
  current = current ?? base;
  current.apiBaseUrl = current.apiBaseUrl.replace(/\/+$/, "");
  return current;
}

export function config(): Config {
  if (!current) throw new Error("config not loaded");
  return current;
}

/** The purchase a Paystack redirect is for (Paystack's callback carries only ?reference=). */
export const PENDING_PURCHASE_KEY = "tollgate.pendingPurchase";
