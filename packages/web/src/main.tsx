import '@fontsource-variable/inter';
import './styles/app.css';
import { createRoot } from 'react-dom/client';
import { ApiError, api } from './api/client.js';
import type { Me } from './api/types.js';
import { App, preloadPage } from './app/App.js';
import { fromSearch, QUEUE_PAGE, toApiParams } from './data/incident-filters.js';

async function start() {
  preloadPage(location.pathname);
  // The queue's first page is asked for with the session check, not after the page renders (one round trip less).
  // The workspace is a guess (the last one used); a wrong guess only costs an unused request.
  if (/^\/(incidents\/?)?$/.test(location.pathname)) {
    api.workspace = localStorage.getItem('vigil.workspace') ?? 'default';
    api.prefetch(api.incidentsPath(toApiParams(fromSearch(location.search), QUEUE_PAGE)));
  }
  let me: Me | null = null;
  try {
    me = await api.me();
  } catch (e) {
    // 401: not signed in (the sign-in page shows); anything else is shown by the pages that fail.
    if (!(e instanceof ApiError && e.status === 401)) console.warn('vigil: /api/auth/me failed', e);
  }
  const root = document.getElementById('root');
  if (root) createRoot(root).render(<App initialMe={me} />);
}

void start();
