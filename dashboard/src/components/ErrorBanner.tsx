import { type FormEvent, useState } from 'react';
import { ApiRequestError, setToken } from '../api/client.js';

/**
 * A failed request, said plainly. A 401 asks for the server's token (BRAID_TOKEN): it is kept in
 * this tab's sessionStorage only, the same place `?token=` in the URL puts it.
 */
export function ErrorBanner({ error }: { error: Error }) {
  const [token, setTokenText] = useState('');
  if (error instanceof ApiRequestError && error.isUnauthorized) {
    const submit = (event: FormEvent) => {
      event.preventDefault();
      if (!token) return;
      setToken(token);
      window.location.reload();
    };
    return (
      <div className="banner banner--error" role="alert">
        <p>This server requires a token. Enter the value of BRAID_TOKEN, or open the dashboard with ?token=….</p>
        <form onSubmit={submit} className="token-form">
          <label>
            Token
            <input type="password" value={token} onChange={(e) => setTokenText(e.target.value)} autoComplete="off" />
          </label>
          <button type="submit">Use token</button>
        </form>
      </div>
    );
  }
  return (
    <div className="banner banner--error" role="alert">
      {error instanceof ApiRequestError && error.status === 404 ? 'Not found: ' : 'Could not load: '}
      {error.message}
    </div>
  );
}
