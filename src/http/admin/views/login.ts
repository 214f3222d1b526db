import { html } from 'hono/html';
import { document, type Html } from './layout.js';

/** The one-field login form: the operator pastes ADMIN_TOKEN once and gets a session cookie. */
export function loginPage(options: { next: string; error?: string }): Html {
  return document(
    'Sign in',
    html`<form class="login" method="post" action="/admin/login">
<h1>rentlink admin</h1>
<p class="sub">Paste the admin token (ADMIN_TOKEN) to open the console.</p>
<input type="hidden" name="next" value="${options.next}">
<label for="token">Admin token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button class="btn primary" type="submit">Sign in</button>
${options.error ? html`<p class="error" role="alert">${options.error}</p>` : ''}
</form>`,
  );
}

/** What /admin answers while ADMIN_TOKEN is unset. */
export function adminOffPage(message: string): Html {
  return document(
    'Admin is off',
    html`<div class="login"><h1>Admin is off</h1><p>${message}</p>
<p class="muted">Set it in the environment (or .env) and restart rentlink.</p></div>`,
  );
}
