import { StrictMode, Suspense, lazy, useState } from "react";
import { createRoot } from "react-dom/client";
import { HashRouter, NavLink, Navigate, Route, Routes } from "react-router-dom";
import { completeOidc, session, signOut } from "./auth";
import { loadConfig } from "./config";
import { PENDING_PURCHASE_KEY } from "./config";
import SignIn from "./pages/SignIn";
import WalletPage from "./pages/Wallet";
import "./style.css";

const BuyPage = lazy(() => import("./pages/Buy"));
const PurchasePage = lazy(() => import("./pages/Buy").then((m) => ({ default: m.PurchasePage })));
const PurchasesPage = lazy(() => import("./pages/Purchases"));
const DeveloperPage = lazy(() => import("./pages/Developer"));
const AdminPage = lazy(() => import("./pages/Admin"));

function App() {
  const [, setVersion] = useState(0);
  const s = session();
  if (!s) return <main><SignIn onSignedIn={() => setVersion((v) => v + 1)} /></main>;
  const isDev = s.roles.includes("developer"); // /v1/developers/me answers 403 to anyone else
  return (
    <HashRouter>
      <header>
        <h1 style={{ fontSize: "1rem", margin: 0 }}>Tollgate</h1>
        <nav>
          <NavLink to="/" end>Wallet</NavLink>
          <NavLink to="/buy">Buy credits</NavLink>
          <NavLink to="/purchases">Purchases</NavLink>
          {isDev && <NavLink to="/developer">Developer</NavLink>}
          {s.roles.includes("admin") && <NavLink to="/admin">Admin</NavLink>}
        </nav>
        <span className="who">
          {s.sub} ({s.roles.join(", ")}){" "}
          <button className="secondary" onClick={() => { signOut(); setVersion((v) => v + 1); }}>Sign out</button>
        </span>
      </header>
      <main>
        <Suspense fallback={<p className="muted">Loading…</p>}>
          <Routes>
            <Route path="/" element={<WalletPage />} />
            <Route path="/buy" element={<BuyPage />} />
            <Route path="/purchases" element={<PurchasesPage />} />
            {/* A purchase's result page (Buy.tsx): the Paystack callback returns here. */}
            <Route path="/purchases/:id" element={<PurchasePage />} />
            <Route path="/developer" element={<DeveloperPage />} />
            <Route path="/admin/*" element={<AdminPage />} />
            <Route path="*" element={<Navigate to="/" />} />
          </Routes>
        </Suspense>
      </main>
    </HashRouter>
  );
}

async function boot() {
  await loadConfig();
  const root = createRoot(document.getElementById("root")!);
  try {
    await completeOidc();
  } catch (e) {
    root.render(<main><div className="error">{(e as Error).message}</div></main>);
    return;
  }
  // Back from Paystack's checkout (?reference=...): open that purchase's result page.
  const query = new URLSearchParams(window.location.search);
  const pending = sessionStorage.getItem(PENDING_PURCHASE_KEY);
  if (query.has("reference") && pending) {
    sessionStorage.removeItem(PENDING_PURCHASE_KEY);
    window.history.replaceState(null, "", window.location.pathname + `#/purchases/${encodeURIComponent(pending)}`);
  }
  root.render(<StrictMode><App /></StrictMode>);
}

boot();
