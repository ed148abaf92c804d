/** Sign-in with a local account (or a one-time setup code on first start / invitation). */
import { useState } from 'react';
import { api } from '../../api/client.js';
import { useApp } from '../../app/state.js';
import { Field } from '../../ui/components.js';

export default function SignInPage() {
  const { setMe, setWorkspace } = useApp();
  const [mode, setMode] = useState<'password' | 'setup'>('password');
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (mode === 'setup') {
        const u = await api.request<{ name: string }>('POST', '/api/auth/setup', { code: code.trim(), password });
        await api.login(u.name, password);
      } else await api.login(name.trim(), password);
      const me = await api.me();
      const saved = localStorage.getItem('vigil.workspace');
      setWorkspace(me.workspaces.find((w) => w.name === saved)?.name ?? me.workspaces[0]?.name ?? 'default');
      setMe(me);
    } catch (x) {
      setError((x as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="signin">
      <form className="card stack" onSubmit={submit} aria-label="Sign in">
        <div className="row" style={{ gap: 10 }}>
          <span className="brand-mark" style={{ width: 34, height: 34 }}>
            <svg
              width="18"
              height="18"
              viewBox="0 0 24 24"
              fill="none"
              stroke="white"
              strokeWidth="3.2"
              aria-hidden="true"
            >
              <path d="M5 6l7 13 7-13" strokeLinecap="round" strokeLinejoin="round" />
            </svg>
          </span>
          <div>
            <h1>Vigil</h1>
            <div className="muted small">Unified security operations</div>
          </div>
        </div>
        {mode === 'password' ? (
          <Field label="User name">
            <input
              className="input"
              autoComplete="username"
              value={name}
              onChange={(e) => setName(e.target.value)}
              autoFocus
            />
          </Field>
        ) : (
          <Field label="Setup code" hint="from `vigil serve` or an Owner">
            <input className="input" value={code} onChange={(e) => setCode(e.target.value)} autoFocus />
          </Field>
        )}
        <Field label={mode === 'setup' ? 'New password' : 'Password'}>
          <input
            className="input"
            type="password"
            autoComplete={mode === 'setup' ? 'new-password' : 'current-password'}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </Field>
        {error && (
          <div className="error-box small" role="alert">
            {error}
          </div>
        )}
        <button type="submit" className="btn primary" disabled={busy}>
          {busy ? 'Signing in…' : mode === 'setup' ? 'Set password and sign in' : 'Sign in'}
        </button>
        <button type="button" className="btn ghost sm" onClick={() => setMode(mode === 'setup' ? 'password' : 'setup')}>
          {mode === 'setup' ? 'I have a password' : 'First sign-in? Use a setup code'}
        </button>
      </form>
    </div>
  );
}
