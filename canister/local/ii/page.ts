// The development identity provider's page. It speaks Internet Identity's
// `authorize-client` postMessage protocol with the window that opened it
// (the app, through @dfinity/auth-client): announce `authorize-ready`,
// receive the session key, let the person pick or create an identity and
// confirm, then answer `authorize-client-success` with a delegation chain
// made by the server (keys never reach the page) or `authorize-client-failure`.
// Self-contained: no build step, no external resources.

export function devIdentityProviderPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Local Internet Identity (development)</title>
<style>
  :root { font-family: system-ui, sans-serif; color: #1d1d2b; background: #f4f4fb; }
  main { max-width: 28rem; margin: 2rem auto; background: #fff; border-radius: 12px; padding: 1.5rem; box-shadow: 0 2px 12px #0001; }
  h1 { font-size: 1.2rem; margin: 0 0 .25rem; }
  .note { color: #666; font-size: .85rem; margin: 0 0 1rem; }
  ul { list-style: none; padding: 0; margin: 0 0 1rem; }
  li button { width: 100%; text-align: left; padding: .6rem .8rem; margin: .25rem 0; border: 1px solid #ccd; border-radius: 8px; background: #fafaff; cursor: pointer; }
  li button:hover, li button:focus { border-color: #5b4fe9; }
  code { font-size: .75rem; word-break: break-all; color: #555; }
  form { display: flex; gap: .5rem; }
  input { flex: 1; padding: .5rem; border: 1px solid #ccd; border-radius: 8px; }
  .primary { background: #5b4fe9; color: #fff; border: 0; border-radius: 8px; padding: .5rem 1rem; cursor: pointer; }
  .secondary { background: none; border: 1px solid #ccd; border-radius: 8px; padding: .5rem 1rem; cursor: pointer; }
  #status { min-height: 1.2em; font-size: .85rem; }
  #status.error { color: #b00020; }
</style>
</head>
<body>
<main>
  <h1>Local Internet Identity</h1>
  <p class="note">Development identity provider of the local IC. Keys stay on the local IC server.</p>
  <p id="context"></p>
  <section id="pick">
    <ul id="identities" aria-label="Identities"></ul>
    <form id="create">
      <input name="name" placeholder="Name of a new identity" aria-label="Name of a new identity" required maxlength="64">
      <button class="primary" type="submit">Create identity</button>
    </form>
  </section>
  <section id="confirm" hidden>
    <p>Sign in to <b id="confirm-origin"></b> as <b id="confirm-name"></b>?</p>
    <p><code id="confirm-principal"></code></p>
    <p><button class="primary" id="continue" type="button">Continue</button>
       <button class="secondary" id="back" type="button">Back</button>
       <button class="secondary" id="cancel" type="button">Cancel</button></p>
  </section>
  <p id="status" role="status"></p>
</main>
<script type="module">
const $ = (id) => document.getElementById(id);
const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const unhex = (h) => new Uint8Array((h.match(/../g) || []).map((x) => parseInt(x, 16)));
const authorizing = location.hash === '#authorize' && window.opener !== null;
let request = null;
let chosen = null;

function status(text, error = false) {
  $('status').textContent = text;
  $('status').className = error ? 'error' : '';
}

async function api(path, body) {
  const r = await fetch(new URL('api/' + path, location.href), body === undefined ? {} : {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  const json = await r.json();
  if (!r.ok) throw new Error((json.error && json.error.message) || r.statusText);
  return json;
}

function answer(message) {
  window.opener.postMessage(message, request.origin);
}

async function render() {
  const q = request ? '?origin=' + encodeURIComponent(request.origin) +
    (request.derivationOrigin ? '&derivationOrigin=' + encodeURIComponent(request.derivationOrigin) : '') : '';
  const { identities } = await api('identities' + q);
  const list = $('identities');
  list.replaceChildren();
  for (const id of identities) {
    const li = document.createElement('li');
    const b = document.createElement('button');
    b.type = 'button';
    b.dataset.anchor = String(id.anchor);
    b.append(id.name + ' (' + id.anchor + ')');
    if (id.principal) { b.append(document.createElement('br')); const c = document.createElement('code'); c.textContent = id.principal; b.append(c); }
    b.disabled = !request;
    b.addEventListener('click', () => confirm(id));
    li.append(b);
    list.append(li);
  }
  $('context').textContent = request
    ? 'Choose an identity for ' + request.origin + '.'
    : authorizing ? 'Waiting for the application…' : identities.length + ' local identities.';
}

function confirm(identity) {
  chosen = identity;
  $('confirm-origin').textContent = request.origin;
  $('confirm-name').textContent = identity.name + ' (' + identity.anchor + ')';
  $('confirm-principal').textContent = identity.principal;
  $('pick').hidden = true;
  $('confirm').hidden = false;
  $('continue').focus();
}

$('back').addEventListener('click', () => { $('confirm').hidden = true; $('pick').hidden = false; chosen = null; });

$('cancel').addEventListener('click', () => {
  if (request) answer({ kind: 'authorize-client-failure', text: 'UserInterrupt' });
});

$('continue').addEventListener('click', async () => {
  $('continue').disabled = true;
  try {
    const r = await api('delegation', {
      anchor: chosen.anchor,
      origin: request.origin,
      derivationOrigin: request.derivationOrigin,
      sessionPublicKey: hex(request.sessionPublicKey),
      maxTimeToLive: request.maxTimeToLive === undefined ? undefined : String(request.maxTimeToLive),
    });
    status('Signed in. Returning to the application…');
    answer({
      kind: 'authorize-client-success',
      delegations: r.delegations.map((d) => ({
        delegation: {
          pubkey: unhex(d.delegation.pubkey),
          expiration: BigInt(d.delegation.expiration),
          ...(d.delegation.targets ? { targets: d.delegation.targets } : {}),
        },
        signature: unhex(d.signature),
      })),
      userPublicKey: unhex(r.userPublicKey),
      authnMethod: 'passkey',
    });
  } catch (e) {
    status(e.message, true);
    answer({ kind: 'authorize-client-failure', text: e.message });
  } finally {
    $('continue').disabled = false;
  }
});

$('create').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const input = ev.target.elements.name;
  try {
    await api('identities', { name: input.value });
    input.value = '';
    status('Identity created.');
    await render();
  } catch (e) {
    status(e.message, true);
  }
});

if (authorizing) {
  window.addEventListener('message', (event) => {
    const d = event.data;
    if (event.source !== window.opener || !d || d.kind !== 'authorize-client' || request) return;
    if (!(d.sessionPublicKey instanceof Uint8Array)) {
      window.opener.postMessage({ kind: 'authorize-client-failure', text: 'sessionPublicKey must be a Uint8Array' }, event.origin);
      return;
    }
    request = {
      origin: event.origin,
      sessionPublicKey: d.sessionPublicKey,
      maxTimeToLive: typeof d.maxTimeToLive === 'bigint' ? d.maxTimeToLive : undefined,
      derivationOrigin: typeof d.derivationOrigin === 'string' ? d.derivationOrigin : undefined,
    };
    render().catch((e) => status(e.message, true));
  });
  // The opener's origin is not known yet: II announces readiness to any origin.
  window.opener.postMessage({ kind: 'authorize-ready' }, '*');
}
render().catch((e) => status(e.message, true));
</script>
</body>
</html>
`;
}
