/** Console-wide state: the signed-in user, the workspace, the theme and toasts; plus a small data-loading hook. */
import { createContext, type ReactNode, useCallback, useContext, useEffect, useRef, useState } from 'react';
import { api } from '../api/client.js';
import type { Me } from '../api/types.js';

export type Theme = 'dark' | 'light';

interface Toast {
  readonly id: number;
  readonly text: string;
  readonly error: boolean;
}

interface AppState {
  readonly me: Me | null;
  setMe(me: Me | null): void;
  readonly workspace: string;
  setWorkspace(name: string): void;
  readonly theme: Theme;
  setTheme(t: Theme): void;
  toast(text: string, error?: boolean): void;
  /** The signed-in user's name as incidents record owners (UPN or sign-in name). */
  readonly userName: string;
}

const Ctx = createContext<AppState | null>(null);

export function useApp(): AppState {
  const v = useContext(Ctx);
  if (!v) throw new Error('useApp outside AppProvider');
  return v;
}

export function AppProvider({ children, initialMe }: { children: ReactNode; initialMe: Me | null }) {
  const [me, setMe] = useState<Me | null>(initialMe);
  const [workspace, setWs] = useState(() => {
    const saved = localStorage.getItem('vigil.workspace');
    const list = initialMe?.workspaces ?? [];
    return list.find((w) => w.name === saved)?.name ?? list[0]?.name ?? 'default';
  });
  api.workspace = workspace;
  const [theme, setThemeState] = useState<Theme>(() => (document.documentElement.dataset.theme as Theme) ?? 'dark');
  const [toasts, setToasts] = useState<Toast[]>([]);
  const seq = useRef(0);

  const setWorkspace = useCallback((name: string) => {
    localStorage.setItem('vigil.workspace', name);
    api.workspace = name;
    setWs(name);
  }, []);
  const setTheme = useCallback((t: Theme) => {
    localStorage.setItem('vigil.theme', t);
    document.documentElement.dataset.theme = t;
    setThemeState(t);
  }, []);
  const toast = useCallback((text: string, error = false) => {
    const id = ++seq.current;
    setToasts((l) => [...l, { id, text, error }]);
    setTimeout(() => setToasts((l) => l.filter((t) => t.id !== id)), error ? 7000 : 3500);
  }, []);
  const userName = me?.user.email ?? me?.user.name ?? 'analyst';

  return (
    <Ctx.Provider value={{ me, setMe, workspace, setWorkspace, theme, setTheme, toast, userName }}>
      {children}
      <div className="toast-stack" aria-live="polite">
        {toasts.map((t) => (
          <div key={t.id} className={`toast ${t.error ? 'error' : ''}`} role={t.error ? 'alert' : 'status'}>
            {t.text}
          </div>
        ))}
      </div>
    </Ctx.Provider>
  );
}

export interface Loaded<T> {
  readonly data: T | undefined;
  readonly error: unknown;
  readonly loading: boolean;
  reload(): void;
  set(v: T): void;
}

/** Loads once per key change; `reload` fetches again (keeping the shown data until the answer arrives). */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const latest = useRef(load);
  latest.current = load;
  // biome-ignore lint/correctness/useExhaustiveDependencies: the caller names the dependencies
  useEffect(() => {
    let live = true;
    setLoading(true);
    latest
      .current()
      .then((v) => {
        if (!live) return;
        setData(v);
        setError(null);
      })
      .catch((e: unknown) => live && setError(e))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return { data, error, loading, reload: () => setTick((t) => t + 1), set: setData };
}
