// Admin: server API keys. List (the API returns them all: no pages), create (the secret is
// shown once, here), change a key's scopes and limit in place (PATCH), revoke (after a confirmation).
import { useState, type FormEvent } from "react";
import { api, errorMessage, type Schemas } from "../api/client";
import { Card, ErrorBox, Status, useLoad } from "../ui";
import { CopyButton, Field, Note, VisuallyHidden } from "../components";

type Key = Schemas["ApiKeyOut"];
type Scope = Key["scopes"][number];
const SCOPES: { scope: Scope; help: string }[] = [
  { scope: "usage", help: "debit (POST /v1/usage)" },
  { scope: "reservations", help: "hold, settle and release" },
  { scope: "reversal", help: "give back what it charged" },
];

export default function AdminKeys() {
  const keys = useLoad(() => api<Schemas["ApiKeyList"]>("GET", "/v1/admin/api-keys"), []);
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<Scope[]>(SCOPES.map((s) => s.scope));
  const [perSecond, setPerSecond] = useState("100");
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<Schemas["ApiKeyCreated"] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [createError, setCreateError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [editing, setEditing] = useState<{ key: Key; scopes: Scope[]; perSecond: string } | null>(null);
  const [editError, setEditError] = useState<string | null>(null);
  async function save(ev: FormEvent) {
    ev.preventDefault();
    if (!editing) return;
    setEditError(null);
    setBusy(true);
    try {
      const changed = await api<Key>("PATCH", `/v1/admin/api-keys/${encodeURIComponent(editing.key.key_id)}`, {
        body: { scopes: editing.scopes, rate_limit_per_second: Number(editing.perSecond) },
      });
      setEditing(null);
      setNote(`Changed ${changed.name} (${changed.key_id}): ${changed.scopes.join(", ")}, ${changed.rate_limit_per_second} a second, from its next request.`);
      keys.reload();
    } catch (e) {
      setEditError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }
  async function create(ev: FormEvent) {
    ev.preventDefault();
    setCreateError(null);
    setBusy(true);
    try {
      setCreated(await api<Schemas["ApiKeyCreated"]>("POST", "/v1/admin/api-keys", { body: { name: name.trim(), scopes, rate_limit_per_second: Number(perSecond) } }));
      setName("");
      keys.reload();
    } catch (e) {
      setCreateError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }
  async function revoke(k: Key) {
    setError(null);
    setNote(null);
    try {
      await api("DELETE", `/v1/admin/api-keys/${encodeURIComponent(k.key_id)}`);
      setConfirming(null);
      setNote(`Revoked ${k.name} (${k.key_id}).`);
      keys.reload();
    } catch (e) {
      setError(errorMessage(e));
    }
  }
  const rows = keys.data?.data ?? [];
  return (
    <>
      <Card title="Create a server API key">
        <form onSubmit={create} className="form-row">
          <Field label="Name">
            {(id) => <input id={id} required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} placeholder="ai-backend" />}
          </Field>
          <Field label="Requests a second">
            {(id) => <input id={id} type="number" required min={1} max={10000} step={1} value={perSecond}
              onChange={(e) => setPerSecond(e.target.value)} style={{ width: "7rem" }} />}
          </Field>
          <fieldset>
            <legend>Scopes</legend>
            {SCOPES.map(({ scope, help }) => (
              <label key={scope}>
                <input type="checkbox" checked={scopes.includes(scope)}
                  onChange={(e) => setScopes(e.target.checked ? [...scopes, scope] : scopes.filter((x) => x !== scope))} />{" "}
                {scope} <span className="muted">({help})</span>
              </label>
            ))}
          </fieldset>
          <button type="submit" disabled={busy || !name.trim() || !scopes.length}>{busy ? "Creating…" : "Create key"}</button>
        </form>
        <ErrorBox error={createError} />
        {created && (
          <section className="banner" aria-labelledby="new-key-heading">
            <h3 id="new-key-heading">New key "{created.name}" ({created.key_id}), scopes: {created.scopes.join(", ")}</h3>
            <p>
              <strong>Copy the secret now: it is shown only this once</strong> (only its hash is stored). Servers send it in
              the <code>X-Api-Key</code> header.
            </p>
            <p>
              <code style={{ fontSize: "1rem", wordBreak: "break-all", userSelect: "all" }}>{created.key}</code>
            </p>
            <p>
              <CopyButton text={created.key} label="Copy the secret" />{" "}
              <button type="button" className="secondary" onClick={() => setCreated(null)}>I have copied it; hide it</button>
            </p>
          </section>
        )}
      </Card>
      <Card title="Server API keys">
        <ErrorBox error={keys.error ?? error} />
        <Note>{note}</Note>
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th><th scope="col">Key id</th><th scope="col">Prefix</th><th scope="col">Scopes</th><th scope="col">Requests a second</th><th scope="col">Created</th>
              <th scope="col">By</th><th scope="col">State</th><th scope="col"><VisuallyHidden>Actions</VisuallyHidden></th>
            </tr>
          </thead>
          <tbody>
            {rows.map((k) => (
              <tr key={k.key_id}>
                <td>{k.name}</td>
                <td>{k.key_id}</td>
                <td><code>{k.prefix}…</code></td>
                <td>{k.scopes.join(", ")}</td>
                <td className="num">{k.rate_limit_per_second}</td>
                <td>{k.created_at}</td>
                <td>{k.created_by}</td>
                <td>{k.active ? <Status value="active" /> : <>revoked{k.revoked_at ? ` ${k.revoked_at}` : ""}</>}</td>
                <td>
                  {k.active && (confirming === k.key_id ? (
                    <span role="group" aria-label={`Revoke ${k.name}?`}>
                      Revoke {k.name}? Servers using it are refused at once.{" "}
                      <button onClick={() => revoke(k)}>Yes, revoke</button>{" "}
                      <button className="secondary" onClick={() => setConfirming(null)}>Cancel</button>
                    </span>
                  ) : (
                    <>
                      <button className="secondary" onClick={() => setEditing({ key: k, scopes: k.scopes, perSecond: String(k.rate_limit_per_second) })}>
                        Edit<VisuallyHidden> {k.name}</VisuallyHidden>
                      </button>{" "}
                      <button className="secondary" onClick={() => setConfirming(k.key_id)}>Revoke</button>
                    </>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {keys.data && !rows.length && <p className="muted">No keys yet.</p>}
        {editing && (
          <form onSubmit={save} className="form-row" aria-label={`Change ${editing.key.name}`}>
            <Field label={`Requests a second for ${editing.key.name}`}>
              {(id) => <input id={id} type="number" required min={1} max={10000} step={1} value={editing.perSecond}
                onChange={(e) => setEditing({ ...editing, perSecond: e.target.value })} style={{ width: "7rem" }} />}
            </Field>
            <fieldset>
              <legend>Scopes of {editing.key.name}</legend>
              {SCOPES.map(({ scope }) => (
                <label key={scope}>
                  <input type="checkbox" checked={editing.scopes.includes(scope)}
                    onChange={(e) => setEditing({ ...editing, scopes: e.target.checked ? [...editing.scopes, scope] : editing.scopes.filter((x) => x !== scope) })} />{" "}
                  {scope}
                </label>
              ))}
            </fieldset>
            <button type="submit" disabled={busy || !editing.scopes.length}>{busy ? "Saving…" : "Save"}</button>{" "}
            <button type="button" className="secondary" onClick={() => setEditing(null)}>Cancel</button>
            <ErrorBox error={editError} />
          </form>
        )}
      </Card>
    </>
  );
}
