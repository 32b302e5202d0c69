// The console's entry: the page frame (navigation, who is signed in) and the view each path names.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { get, remove, whenSignedOut, type Session } from "./api";
import { startLayoutWorker } from "./graph/Graph";
import { Execution } from "./pages/Execution";
import { Function, Functions } from "./pages/Functions";
import { Machine } from "./pages/Machine";
import { Machines } from "./pages/Machines";
import { SignIn } from "./pages/SignIn";
import { href, navigate, useLocation } from "./router";
import "./styles.css";

function View({ path }: { path: string }) {
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0 || (parts[0] === "state-machines" && parts.length === 1)) return <Machines />;
  if (parts[0] === "state-machines" && parts.length === 2) return <Machine key={parts[1]} name={parts[1]} />;
  if (parts[0] === "executions" && parts.length === 2) return <Execution key={parts[1]} arn={parts[1]} />;
  if (parts[0] === "functions" && parts.length === 1) return <Functions />;
  if (parts[0] === "functions" && parts.length === 2) return <Function key={parts[1]} name={parts[1]} />;
  return <div class="problem">No page here. <a {...href("/")}>State machines</a></div>;
}

function App() {
  const where = useLocation();
  const [session, setSession] = useState<Session | null>(null);
  useEffect(() => {
    whenSignedOut(() => {
      setSession((current) => current && { ...current, signedIn: false });
      const next = location.pathname + location.search;
      if (!location.pathname.startsWith("/console/sign-in")) navigate(`/sign-in?next=${encodeURIComponent(next)}`, true);
    });
    get<Session>("session").then(setSession, () => setSession({ authRequired: true, signedIn: false, accessKeyId: null }));
  }, []);
  const signOut = async () => {
    await remove("session");
    setSession({ authRequired: true, signedIn: false, accessKeyId: null });
    navigate("/sign-in", true);
  };
  const section = where.path.startsWith("/functions") ? "functions" : "machines";
  return (
    <div class="frame">
      <header class="top">
        <a class="brand" {...href("/")}>pinflow</a>
        {session?.signedIn ? <nav>
          <a {...href("/")} class={section === "machines" ? "active" : ""}>State machines</a>
          <a {...href("/functions")} class={section === "functions" ? "active" : ""}>Functions</a>
        </nav> : null}
        <span class="spacer" />
        {session?.authRequired && session.signedIn ? (
          <span class="who">Signed in as <code data-test="signed-in-as">{session.accessKeyId}</code>{" "}
            <button class="link" onClick={signOut} data-test="sign-out">Sign out</button></span>) : null}
      </header>
      <main>
        {/* The view asks for its data at once, without waiting to learn whether sign-in is on: without a
            session its requests answer 401, which brings the sign-in page. */}
        {where.path === "/sign-in" || (session && !session.signedIn)
          ? <SignIn onSignedIn={setSession} />
          : <View path={where.path} />}
      </main>
    </div>
  );
}

startLayoutWorker();  // ELK takes a moment to start: let it while the first page asks for its data
render(<App />, document.getElementById("app")!);
