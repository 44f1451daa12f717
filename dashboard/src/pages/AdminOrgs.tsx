// Admin: organizations. Look one up (with its members), create or rename it, add, change
// or remove members (role, monthly cap).
import { useState, type FormEvent } from "react";
import { Link } from "react-router-dom";
import { ApiError, api, errorMessage, type Schemas } from "../api/client";
import { formatCredits } from "../credits";
import { Card, ErrorBox } from "../ui";
import { Field, Note, VisuallyHidden } from "../components";

type Org = Schemas["OrgView"];
type Member = Schemas["MemberOut"];

export default function AdminOrgs() {
  const [orgId, setOrgId] = useState("");
  const [org, setOrg] = useState<Org | null>(null);
  const [missing, setMissing] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  // Member actions answer in the members' card.
  const [memberError, setMemberError] = useState<string | null>(null);
  const [memberNote, setMemberNote] = useState<string | null>(null);
  const [name, setName] = useState("");
  const [member, setMember] = useState({ sub: "", role: "member", monthly_cap: "" });
  const [confirming, setConfirming] = useState<string | null>(null);
  const id = orgId.trim();
  const path = (o: string) => `/v1/admin/orgs/${encodeURIComponent(o)}`;

  async function read(o: string) {
    try {
      const view = await api<Org>("GET", path(o));
      setOrg(view);
      setMissing(null);
      setName(view.name);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404 && e.code === "not_found") {
        setOrg(null);
        setMissing(o);
        return;
      }
      throw e;
    }
  }
  async function run(action: () => Promise<string | null>, members = false) {
    const [err, ok] = members ? [setMemberError, setMemberNote] : [setError, setNote];
    setError(null);
    setNote(null);
    setMemberError(null);
    setMemberNote(null);
    try {
      ok(await action());
    } catch (e) {
      err(errorMessage(e));
    }
  }
  const lookUp = (ev: FormEvent) => {
    ev.preventDefault();
    setConfirming(null);
    run(async () => { await read(id); return null; });
  };
  const save = (ev: FormEvent) => {
    ev.preventDefault();
    const o = org?.org_id ?? missing ?? id;
    run(async () => {
      const out = await api<Schemas["OrgOut"]>("PUT", path(o), { body: { name: name.trim() } });
      await read(o);
      return `Saved ${out.org_id} ("${out.name}"); its wallet is ${out.wallet_id}.`;
    });
  };
  const saveMember = (ev: FormEvent) => {
    ev.preventDefault();
    if (!org) return;
    const body: Schemas["MemberIn"] = { role: member.role as Member["role"], monthly_cap: member.monthly_cap.trim() || null };
    run(async () => {
      const out = await api<Member>("PUT", `${path(org.org_id)}/members/${encodeURIComponent(member.sub.trim())}`, { body });
      setMember({ sub: "", role: "member", monthly_cap: "" });
      await read(org.org_id);
      return `${out.sub} is ${out.role === "owner" ? "an owner" : "a member"}${out.monthly_cap ? `, capped at ${formatCredits(out.monthly_cap)} credits a month` : ", no cap"}.`;
    }, true);
  };
  const remove = (m: Member) => run(async () => {
    await api("DELETE", `${path(m.org_id)}/members/${encodeURIComponent(m.sub)}`);
    setConfirming(null);
    await read(m.org_id);
    return `Removed ${m.sub}.`;
  }, true);

  const target = org?.org_id ?? missing;
  return (
    <>
      <Card title="Organizations">
        <form onSubmit={lookUp} className="form-row">
          <Field label="Organization id">
            {(fid) => <input id={fid} value={orgId} onChange={(e) => setOrgId(e.target.value)} placeholder="acme" />}
          </Field>
          <button type="submit" disabled={!id}>Look up</button>
        </form>
        <ErrorBox error={error} />
        <Note>{note}</Note>
        {missing && <p>There is no organization <b>{missing}</b> yet: name it below to create it.</p>}
        {org && (
          <p>
            <b>{org.name}</b> ({org.org_id}) · wallet{" "}
            <Link to={`/admin/wallets?wallet_id=${encodeURIComponent(org.wallet_id)}`}>{org.wallet_id}</Link> · created {org.created_at}
          </p>
        )}
        {target && (
          <form onSubmit={save} className="form-row">
            <h3 style={{ width: "100%" }}>{org ? "Rename" : "Create"} {target}</h3>
            <Field label="Name">
              {(fid) => <input id={fid} required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} placeholder="Acme" />}
            </Field>
            <button type="submit" disabled={!name.trim()}>{org ? "Rename" : "Create"}</button>
          </form>
        )}
      </Card>
      {org && (
        <Card title={`Members of ${org.org_id}`}>
          <table>
            <thead>
              <tr>
                <th scope="col">User (sub)</th><th scope="col">Role</th><th scope="col" className="num">Monthly cap</th>
                <th scope="col">Since</th><th scope="col"><VisuallyHidden>Actions</VisuallyHidden></th>
              </tr>
            </thead>
            <tbody>
              {org.members.map((m) => (
                <tr key={m.sub}>
                  <td>{m.sub}</td>
                  <td>{m.role}</td>
                  <td className="num">{m.monthly_cap == null ? "no cap" : formatCredits(m.monthly_cap)}</td>
                  <td>{m.created_at}</td>
                  <td>
                    <button className="secondary" onClick={() => setMember({ sub: m.sub, role: m.role, monthly_cap: m.monthly_cap ?? "" })}>
                      Edit<VisuallyHidden> {m.sub}</VisuallyHidden>
                    </button>{" "}
                    {confirming === m.sub ? (
                      <span role="group" aria-label={`Remove ${m.sub}?`}>
                        Remove {m.sub}?{" "}
                        <button onClick={() => remove(m)}>Yes, remove</button>{" "}
                        <button className="secondary" onClick={() => setConfirming(null)}>Cancel</button>
                      </span>
                    ) : (
                      <button className="secondary" onClick={() => setConfirming(m.sub)}>Remove<VisuallyHidden> {m.sub}</VisuallyHidden></button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {!org.members.length && <p className="muted">No members yet.</p>}
          <form onSubmit={saveMember}>
            <h3>Add or change a member</h3>
            <div className="form-row">
              <Field label="User (sub)">
                {(fid) => <input id={fid} required value={member.sub} onChange={(e) => setMember({ ...member, sub: e.target.value })} placeholder="alice" />}
              </Field>
              <Field label="Role">
                {(fid) => (
                  <select id={fid} value={member.role} onChange={(e) => setMember({ ...member, role: e.target.value })}>
                    <option value="member">member (spends from the wallet)</option>
                    <option value="owner">owner (also manages members)</option>
                  </select>
                )}
              </Field>
              <Field label="Monthly cap" hint="(credits; empty: no cap)">
                {(fid) => <input id={fid} inputMode="decimal" value={member.monthly_cap} onChange={(e) => setMember({ ...member, monthly_cap: e.target.value })} />}
              </Field>
              <button type="submit" disabled={!member.sub.trim()}>Save member</button>
            </div>
          </form>
          <ErrorBox error={memberError} />
          <Note>{memberNote}</Note>
        </Card>
      )}
    </>
  );
}
