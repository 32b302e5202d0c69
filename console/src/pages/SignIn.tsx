// Sign in with an access key id and secret: checked by the server, which sets an HttpOnly session
// cookie. Nothing is kept in the browser's storage.
import { useState } from "preact/hooks";
import { post, type Session } from "../api";
import { navigate, useLocation } from "../router";
import { Problem } from "../parts/common";

export function SignIn({ onSignedIn }: { onSignedIn: (session: Session) => void }) {
  const where = useLocation();
  const [keyId, setKeyId] = useState("");
  const [secret, setSecret] = useState("");
  const [error, setError] = useState<unknown>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    try {
      const session = await post<Session>("session", { accessKeyId: keyId, secretAccessKey: secret });
      setSecret("");
      onSignedIn(session);
      const next = where.query.get("next");
      navigate(next && next.startsWith("/console/") && !next.startsWith("/console/sign-in") ? next : "/", true);
    } catch (exc) {
      setError(exc);
    }
  };
  return (
    <form class="dialog sign-in" onSubmit={submit} data-test="sign-in" autocomplete="off">
      <h2>Sign in to pinflow</h2>
      <p class="muted">This server checks requests against its access keys (<code>pinflow server --auth</code>).
        Sign in with one of them; the secret is checked by the server and not kept in this browser.</p>
      <label>Access key id<input name="accessKeyId" value={keyId} autocomplete="off"
                                 onInput={(e) => setKeyId((e.target as HTMLInputElement).value)} required /></label>
      <label>Secret access key<input name="secretAccessKey" type="password" value={secret} autocomplete="off"
                                     onInput={(e) => setSecret((e.target as HTMLInputElement).value)} required /></label>
      <Problem error={error} />
      <div class="dialog-actions"><button type="submit" class="primary" data-test="sign-in-submit">Sign in</button></div>
    </form>
  );
}
