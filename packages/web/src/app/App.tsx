/**
 * The console shell: sign-in gate, sidebar, top bar (workspace switcher, theme, user) and the routed page. Every
 * page is its own chunk (React.lazy): the incidents queue loads without the editor, charts or the rule wizard.
 */
import { lazy, type ReactNode, Suspense, useEffect, useState } from 'react';
import { api } from '../api/client.js';
import type { Me } from '../api/types.js';
import { SHORTCUTS } from '../data/shortcuts.js';
import { Avatar, Modal, Spinner } from '../ui/components.js';
import { Icon } from '../ui/icons.js';
import { Link, match, navigate, useLocation } from './router.js';
import { AppProvider, useApp } from './state.js';

const load = {
  incidents: () => import('../features/incidents/IncidentsPage.js'),
  incident: () => import('../features/incident/IncidentPage.js'),
  hunting: () => import('../features/hunting/HuntingPage.js'),
  rules: () => import('../features/rules/RulesPage.js'),
  ruleWizard: () => import('../features/rules/RuleWizard.js'),
  automation: () => import('../features/automation/AutomationPage.js'),
  connectors: () => import('../features/connectors/ConnectorsPage.js'),
  health: () => import('../features/health/HealthPage.js'),
  users: () => import('../features/settings/UsersPage.js'),
  start: () => import('../features/settings/StartPage.js'),
  signIn: () => import('../features/auth/SignInPage.js'),
};
const IncidentsPage = lazy(load.incidents);
const IncidentPage = lazy(load.incident);
const HuntingPage = lazy(load.hunting);
const RulesPage = lazy(load.rules);
const RuleWizardPage = lazy(load.ruleWizard);
const AutomationPage = lazy(load.automation);
const ConnectorsPage = lazy(load.connectors);
const HealthPage = lazy(load.health);
const UsersPage = lazy(load.users);
const StartPage = lazy(load.start);
const SignInPage = lazy(load.signIn);

/** Starts fetching the page's chunk while the session is checked (no waterfall on a first load). */
export function preloadPage(pathname: string): void {
  const first = pathname.split('/')[1] ?? '';
  const loader =
    first === '' || first === 'incidents'
      ? pathname.split('/').length > 2
        ? load.incident
        : load.incidents
      : (
          {
            hunting: load.hunting,
            rules: load.rules,
            automation: load.automation,
            connectors: load.connectors,
            health: load.health,
            users: load.users,
            start: load.start,
          } as Record<string, () => Promise<unknown>>
        )[first];
  void loader?.().catch(() => undefined);
}

interface Route {
  readonly pattern: string;
  readonly render: (p: Record<string, string>) => ReactNode;
}

const ROUTES: readonly Route[] = [
  { pattern: '/', render: () => <IncidentsPage /> },
  { pattern: '/incidents', render: () => <IncidentsPage /> },
  { pattern: '/incidents/:id', render: (p) => <IncidentPage id={p.id ?? ''} /> },
  { pattern: '/hunting', render: () => <HuntingPage /> },
  { pattern: '/rules', render: () => <RulesPage /> },
  { pattern: '/rules/new', render: () => <RuleWizardPage /> },
  { pattern: '/automation', render: () => <AutomationPage /> },
  { pattern: '/automation/:tab', render: (p) => <AutomationPage tab={p.tab} /> },
  { pattern: '/connectors', render: () => <ConnectorsPage /> },
  { pattern: '/health', render: () => <HealthPage /> },
  { pattern: '/users', render: () => <UsersPage /> },
  { pattern: '/start', render: () => <StartPage /> },
];

const NAV: readonly { section?: string; to: string; label: string; icon: string }[] = [
  { to: '/start', label: 'Start here', icon: 'start' },
  { section: 'Investigate', to: '/incidents', label: 'Incidents', icon: 'incidents' },
  { to: '/hunting', label: 'Hunting', icon: 'hunting' },
  { section: 'Detect & respond', to: '/rules', label: 'Analytics rules', icon: 'rules' },
  { to: '/automation', label: 'Automation', icon: 'automation' },
  { section: 'Configure', to: '/connectors', label: 'Data connectors', icon: 'connectors' },
  { to: '/health', label: 'Health', icon: 'health' },
  { to: '/users', label: 'Users & roles', icon: 'users' },
];

export function App({ initialMe }: { initialMe: Me | null }) {
  return (
    <AppProvider initialMe={initialMe}>
      <Gate />
    </AppProvider>
  );
}

function Gate() {
  const { me, setMe } = useApp();
  useEffect(() => {
    api.onUnauthorized = () => setMe(null);
  }, [setMe]);
  if (!me)
    return (
      <Suspense fallback={null}>
        <SignInPage />
      </Suspense>
    );
  return <Shell />;
}

function Shell() {
  const { pathname } = useLocation();
  const { me, workspace, setWorkspace, theme, setTheme, setMe, toast } = useApp();
  const [help, setHelp] = useState(false);
  let page: ReactNode = null;
  for (const r of ROUTES) {
    const p = match(r.pattern, pathname);
    if (p) {
      page = r.render(p);
      break;
    }
  }
  useEffect(() => {
    const key = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      if (t && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName))) return;
      if (e.key === '?') setHelp((h) => !h);
      if (e.key === 'g') {
        const next = (ev: KeyboardEvent) => {
          const to = { i: '/incidents', h: '/hunting', r: '/rules', a: '/automation' }[ev.key];
          if (to) navigate(to);
        };
        window.addEventListener('keydown', next, { once: true });
      }
    };
    window.addEventListener('keydown', key);
    return () => window.removeEventListener('keydown', key);
  }, []);
  const signOut = async () => {
    try {
      await api.logout();
    } catch (e) {
      toast(`Sign-out failed: ${(e as Error).message}`, true);
    }
    setMe(null);
  };
  const active = (to: string) =>
    pathname === to || pathname.startsWith(`${to}/`) || (to === '/incidents' && pathname === '/');
  return (
    <div className="shell">
      <aside className="sidebar">
        <div className="brand">
          <span className="brand-mark">
            <svg
              width="14"
              height="14"
              viewBox="0 0 24 24"
              fill="none"
              stroke="white"
              strokeWidth="3.2"
              aria-hidden="true"
            >
              <path d="M5 6l7 13 7-13" strokeLinecap="round" strokeLinejoin="round" />
            </svg>
          </span>
          Vigil
        </div>
        <nav className="nav" aria-label="Main">
          {NAV.map((n) => (
            <div key={n.to} style={{ display: 'contents' }}>
              {n.section && <div className="nav-section">{n.section}</div>}
              <Link to={n.to} className={active(n.to) ? 'active' : ''}>
                <Icon name={n.icon} />
                {n.label}
              </Link>
            </div>
          ))}
        </nav>
        <div className="sidebar-foot">
          <button type="button" className="btn ghost sm" onClick={() => setHelp(true)}>
            <Icon name="keyboard" /> Shortcuts <span className="kbd">?</span>
          </button>
        </div>
      </aside>
      <header className="topbar">
        <select
          className="select"
          aria-label="Workspace"
          value={workspace}
          onChange={(e) => {
            setWorkspace(e.target.value);
            navigate('/incidents');
          }}
        >
          {(me?.workspaces ?? []).map((w) => (
            <option key={w.name} value={w.name}>
              {w.displayName || w.name}
            </option>
          ))}
        </select>
        <span className="muted small">{me?.workspaces.find((w) => w.name === workspace)?.role}</span>
        <div className="spacer" />
        <button
          type="button"
          className="btn ghost"
          aria-label={theme === 'dark' ? 'Light theme' : 'Dark theme'}
          title={theme === 'dark' ? 'Light theme' : 'Dark theme'}
          onClick={() => setTheme(theme === 'dark' ? 'light' : 'dark')}
        >
          <Icon name={theme === 'dark' ? 'sun' : 'moon'} />
        </button>
        <div className="row" style={{ gap: 8 }}>
          <Avatar name={me?.user.displayName || me?.user.name || '?'} />
          <span className="small">{me?.user.displayName || me?.user.name}</span>
        </div>
        <button type="button" className="btn ghost" onClick={signOut} title="Sign out" aria-label="Sign out">
          <Icon name="logout" />
        </button>
      </header>
      <main className="main" key={workspace}>
        <Suspense
          fallback={
            <div className="page">
              <Spinner label="Loading…" />
            </div>
          }
        >
          {page ?? (
            <div className="page">
              <h1>Not found</h1>
              <p className="muted">
                No page at {pathname}. <Link to="/incidents">Open the incident queue</Link>.
              </p>
            </div>
          )}
        </Suspense>
      </main>
      {help && (
        <Modal title="Keyboard shortcuts" onClose={() => setHelp(false)}>
          <table className="table">
            <tbody>
              {SHORTCUTS.map((s) => (
                <tr key={s.key + s.where}>
                  <td style={{ width: 80 }}>
                    <span className="kbd">{s.key}</span>
                  </td>
                  <td>{s.label}</td>
                  <td className="muted small">{s.where}</td>
                </tr>
              ))}
              <tr>
                <td>
                  <span className="kbd">g</span> <span className="kbd">i/h/r/a</span>
                </td>
                <td>Go to incidents, hunting, rules, automation</td>
                <td className="muted small">everywhere</td>
              </tr>
            </tbody>
          </table>
        </Modal>
      )}
    </div>
  );
}
