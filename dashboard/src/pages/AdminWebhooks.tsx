// Admin: webhook endpoints. Register one (its signing secret is shown once, here), list them, see an
// endpoint's deliveries and their attempts, re-send one, turn an endpoint off or back on (one Tollgate
// disabled after 3 days of failures included), delete one (after a confirmation).
import { useState, type FormEvent } from "react";
import { api, errorMessage, type Schemas } from "../api/client";
import { Card, ErrorBox, Status, useLoad } from "../ui";
import { CopyButton, Field, Note, VisuallyHidden } from "../components";

type Endpoint = Schemas["WebhookEndpointOut"];
type Selector = Schemas["WebhookEndpointIn"]["events"][number];
const EVENT_TYPES: Selector[] = [
  "credits.granted", "credits.low", "credits.depleted", "credits.expiring", "purchase.paid", "purchase.failed",
  "purchase.refunded", "refund.succeeded", "refund.failed", "payout.paid", "payout.failed", "payout.reversed",
  "reservation.expired",
];

export default function AdminWebhooks() {
  const endpoints = useLoad(() => api<Schemas["WebhookEndpointList"]>("GET", "/v1/admin/webhook-endpoints"), []);
  const [url, setUrl] = useState("");
  const [description, setDescription] = useState("");
  const [every, setEvery] = useState(true);
  const [events, setEvents] = useState<Selector[]>(["credits.low"]);
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<Schemas["WebhookEndpointCreated"] | null>(null);
  const [createError, setCreateError] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [shown, setShown] = useState<Endpoint | null>(null);

  async function create(ev: FormEvent) {
    ev.preventDefault();
    setCreateError(null);
    setBusy(true);
    try {
      setCreated(await api<Schemas["WebhookEndpointCreated"]>("POST", "/v1/admin/webhook-endpoints", {
        body: { url: url.trim(), events: every ? ["*"] : events, description: description.trim() },
      }));
      setUrl("");
      setDescription("");
      endpoints.reload();
    } catch (e) {
      setCreateError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }
  async function remove(endpoint: Endpoint) {
    setError(null);
    setNote(null);
    try {
      await api("DELETE", `/v1/admin/webhook-endpoints/${encodeURIComponent(endpoint.endpoint_id)}`);
      setConfirming(null);
      if (shown?.endpoint_id === endpoint.endpoint_id) setShown(null);
      setNote(`Deleted ${endpoint.url} (${endpoint.endpoint_id}): nothing more is sent to it.`);
      endpoints.reload();
    } catch (e) {
      setError(errorMessage(e));
    }
  }
  async function toggle(endpoint: Endpoint) {
    setError(null);
    setNote(null);
    const enabled = endpoint.status !== "enabled";
    try {
      await api("PATCH", `/v1/admin/webhook-endpoints/${encodeURIComponent(endpoint.endpoint_id)}`, {
        body: { enabled },
      });
      setNote(enabled ? `Turned ${endpoint.url} back on: events from now on are delivered (re-send failed ones below).`
        : `Turned ${endpoint.url} off: nothing is sent to it until it is turned on.`);
      endpoints.reload();
    } catch (e) {
      setError(errorMessage(e));
    }
  }
  const rows = endpoints.data?.data ?? [];
  return (
    <>
      <Card title="Register a webhook endpoint">
        <form onSubmit={create} className="form-row">
          <Field label="URL" hint="https (http://127.0.0.1 in make dev); never a private address">
            {(id) => <input id={id} required maxLength={2048} value={url} onChange={(e) => setUrl(e.target.value)}
              placeholder="https://example.com/hooks/tollgate" style={{ width: "22rem" }} />}
          </Field>
          <Field label="Description">
            {(id) => <input id={id} maxLength={500} value={description} onChange={(e) => setDescription(e.target.value)} />}
          </Field>
          <fieldset>
            <legend>Events</legend>
            <label>
              <input type="checkbox" checked={every} onChange={(e) => setEvery(e.target.checked)} /> every event (types added
              later included)
            </label>
            {!every && EVENT_TYPES.map((type) => (
              <label key={type}>
                <input type="checkbox" checked={events.includes(type)}
                  onChange={(e) => setEvents(e.target.checked ? [...events, type] : events.filter((x) => x !== type))} />{" "}
                {type}
              </label>
            ))}
          </fieldset>
          <button type="submit" disabled={busy || !url.trim() || (!every && !events.length)}>
            {busy ? "Registering…" : "Register endpoint"}
          </button>
        </form>
        <ErrorBox error={createError} />
        {created && (
          <section className="banner" aria-labelledby="new-endpoint-heading">
            <h3 id="new-endpoint-heading">Endpoint {created.endpoint_id} for {created.url}</h3>
            <p>
              <strong>Copy the signing secret now: it is shown only this once.</strong> Check each delivery's{" "}
              <code>Tollgate-Signature</code> header with it (the SDK's <code>verify_webhook</code>).
            </p>
            <p><code style={{ fontSize: "1rem", wordBreak: "break-all", userSelect: "all" }}>{created.secret}</code></p>
            <p>
              <CopyButton text={created.secret} label="Copy the secret" />{" "}
              <button type="button" className="secondary" onClick={() => setCreated(null)}>I have copied it; hide it</button>
            </p>
          </section>
        )}
      </Card>
      <Card title="Webhook endpoints">
        <ErrorBox error={endpoints.error ?? error} />
        <Note>{note}</Note>
        <table>
          <thead>
            <tr>
              <th scope="col">URL</th><th scope="col">Events</th><th scope="col">Description</th><th scope="col">State</th>
              <th scope="col">Created</th><th scope="col"><VisuallyHidden>Actions</VisuallyHidden></th>
            </tr>
          </thead>
          <tbody>
            {rows.map((e) => (
              <tr key={e.endpoint_id}>
                <td><code style={{ wordBreak: "break-all" }}>{e.url}</code></td>
                <td>{e.events.join(", ")}</td>
                <td>{e.description}</td>
                <td>{e.status === "enabled" ? <Status value="enabled" /> : <>disabled: {e.disabled_reason}</>}</td>
                <td>{e.created_at}</td>
                <td>
                  <button className="secondary" onClick={() => setShown(e)}>
                    Deliveries<VisuallyHidden> to {e.url}</VisuallyHidden>
                  </button>{" "}
                  <button className="secondary" onClick={() => toggle(e)}>
                    {e.status === "enabled" ? "Turn off" : "Turn on"}<VisuallyHidden> {e.url}</VisuallyHidden>
                  </button>{" "}
                  {confirming === e.endpoint_id ? (
                    <span role="group" aria-label={`Delete ${e.url}?`}>
                      Delete it? Nothing more is sent to it.{" "}
                      <button onClick={() => remove(e)}>Yes, delete</button>{" "}
                      <button className="secondary" onClick={() => setConfirming(null)}>Cancel</button>
                    </span>
                  ) : (
                    <button className="secondary" onClick={() => setConfirming(e.endpoint_id)}>
                      Delete<VisuallyHidden> {e.url}</VisuallyHidden>
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {endpoints.data && !rows.length && <p className="muted">No endpoints yet.</p>}
      </Card>
      {shown && <Deliveries key={shown.endpoint_id} endpoint={shown} />}
    </>
  );
}

function Deliveries({ endpoint }: { endpoint: Endpoint }) {
  const path = `/v1/admin/webhook-endpoints/${encodeURIComponent(endpoint.endpoint_id)}/deliveries`;
  const deliveries = useLoad(() => api<Schemas["WebhookDeliveryList"]>("GET", path, { query: { limit: 50 } }), [path]);
  const [note, setNote] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  async function resend(eventId: string) {
    setError(null);
    try {
      await api("POST", `${path}/${encodeURIComponent(eventId)}/resend`);
      setNote(`Queued ${eventId} for ${endpoint.url} again.`);
      deliveries.reload();
    } catch (e) {
      setError(errorMessage(e));
    }
  }
  const rows = deliveries.data?.data ?? [];
  return (
    <Card title={`Deliveries to ${endpoint.url}`}>
      <ErrorBox error={deliveries.error ?? error} />
      <Note>{note}</Note>
      <table>
        <thead>
          <tr>
            <th scope="col">Event</th><th scope="col">Type</th><th scope="col">State</th><th scope="col" className="num">Attempts</th>
            <th scope="col">Last answer</th><th scope="col">Next attempt</th><th scope="col"><VisuallyHidden>Actions</VisuallyHidden></th>
          </tr>
        </thead>
        <tbody>
          {rows.map((d) => (
            <tr key={d.event_id}>
              <td>{d.event_id}</td>
              <td>{d.event_type}</td>
              <td><Status value={d.status} /></td>
              <td className="num">{d.attempt_count}</td>
              <td>{d.attempts[0] ? (d.attempts[0].status_code ?? d.attempts[0].error ?? "") : ""}</td>
              <td>{d.next_attempt_at ?? ""}</td>
              <td>
                {endpoint.status === "enabled" && (
                  <button className="secondary" onClick={() => resend(d.event_id)}>
                    Re-send<VisuallyHidden> {d.event_id}</VisuallyHidden>
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {deliveries.data && !rows.length && <p className="muted">Nothing delivered to it yet.</p>}
    </Card>
  );
}
