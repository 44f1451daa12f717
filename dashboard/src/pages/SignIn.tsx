import { useState } from "react";
import { devSignIn, oidcSignIn } from "../auth";
import { config } from "../config";
import { errorMessage } from "../api/client";
import { Card, ErrorBox } from "../ui";

const ROLES = ["user", "developer", "admin"];

export default function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const [sub, setSub] = useState("alice");
  const [roles, setRoles] = useState<string[]>(["user"]);
  const [error, setError] = useState<string | null>(null);
  // The page's one h1 (signed in, the header's "Tollgate" is).
  const title = <h1 className="sign-in-title">Tollgate</h1>;
  if (config().authMode === "oidc") {
    return (
      <>
        {title}
        <Card title="Sign in">
          <ErrorBox error={error} />
          <button onClick={() => oidcSignIn().catch((e) => setError(errorMessage(e)))}>Sign in</button>
        </Card>
      </>
    );
  }
  return (
    <>
      {title}
      <Card title="Dev sign-in (make dev only)">
        <ErrorBox error={error} />
        <form
          onSubmit={(e) => {
            e.preventDefault();
            devSignIn(sub.trim(), roles).then(onSignedIn, (err) => setError(errorMessage(err)));
          }}
        >
          <label>
            User <input value={sub} onChange={(e) => setSub(e.target.value)} list="dev-users" required />
          </label>
          <datalist id="dev-users">
            <option value="alice" />
            <option value="bob" />
            <option value="dev-carol" />
            <option value="admin" />
          </datalist>
          <fieldset>
            <legend>Roles</legend>
            {ROLES.map((r) => (
              <label key={r}>
                <input type="checkbox" checked={roles.includes(r)}
                  onChange={(e) => setRoles(e.target.checked ? [...roles, r] : roles.filter((x) => x !== r))} /> {r}
              </label>
            ))}
          </fieldset>
          <button type="submit">Sign in</button>
        </form>
      </Card>
    </>
  );
}
