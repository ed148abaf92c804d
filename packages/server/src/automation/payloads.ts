/**
 * The JSON bodies of notifications and tickets, in the shapes the receiving services document:
 * - Microsoft Teams incoming webhooks (Workflows and the classic connector): a `message` with one Adaptive Card
 *   attachment (schema 1.4: a title TextBlock, the text, a FactSet, an OpenUrl action), or the legacy
 *   `MessageCard` (`@type`, `@context`, `summary`, `themeColor`, `title`, `text`, `sections[].facts`,
 *   `potentialAction[]` OpenUri);
 * - Slack incoming webhooks: `text` (the notification fallback) and Block Kit `blocks` (header, section with
 *   mrkdwn, fields, an actions block with a link button);
 * - Jira Cloud/Server REST `POST /rest/api/2/issue`: `{fields: {project: {key}, summary, description, issuetype:
 *   {name}, labels, priority: {name}, ...}}` (v2 takes plain-text descriptions);
 * - a generic ticket webhook: `{title, description, severity, labels, incident, source}`.
 */
import { toText } from './expressions.js';

export interface Fact {
  readonly name: string;
  readonly value: string;
}

export function factsOf(v: unknown): Fact[] {
  if (Array.isArray(v))
    return v
      .filter((x): x is Record<string, unknown> => !!x && typeof x === 'object')
      .map((x) => ({ name: toText(x.name ?? x.title), value: toText(x.value) }));
  if (v && typeof v === 'object') return Object.entries(v).map(([name, value]) => ({ name, value: toText(value) }));
  return [];
}

export interface LinkSpec {
  readonly title: string;
  readonly url: string;
}

export function teamsAdaptiveCard(o: { title: string; text: string; facts: Fact[]; link: LinkSpec | null }): unknown {
  const body: unknown[] = [];
  if (o.title) body.push({ type: 'TextBlock', size: 'Medium', weight: 'Bolder', text: o.title, wrap: true });
  if (o.text) body.push({ type: 'TextBlock', text: o.text, wrap: true });
  if (o.facts.length > 0)
    body.push({ type: 'FactSet', facts: o.facts.map((f) => ({ title: f.name, value: f.value })) });
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body,
          ...(o.link ? { actions: [{ type: 'Action.OpenUrl', title: o.link.title || 'Open', url: o.link.url }] } : {}),
        },
      },
    ],
  };
}

export function teamsMessageCard(o: {
  title: string;
  text: string;
  facts: Fact[];
  link: LinkSpec | null;
  themeColor: string;
}): unknown {
  return {
    '@type': 'MessageCard',
    '@context': 'http://schema.org/extensions',
    summary: o.title || o.text.slice(0, 80) || 'Vigil',
    themeColor: o.themeColor,
    title: o.title,
    text: o.text,
    ...(o.facts.length > 0 ? { sections: [{ facts: o.facts }] } : {}),
    ...(o.link
      ? {
          potentialAction: [
            { '@type': 'OpenUri', name: o.link.title || 'Open', targets: [{ os: 'default', uri: o.link.url }] },
          ],
        }
      : {}),
  };
}

/** Slack's mrkdwn needs &, < and > escaped in text that is not a link. */
const slackEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function slackMessage(o: { title: string; text: string; fields: Fact[]; link: LinkSpec | null }): unknown {
  const blocks: unknown[] = [];
  if (o.title) blocks.push({ type: 'header', text: { type: 'plain_text', text: o.title.slice(0, 150), emoji: true } });
  blocks.push({ type: 'section', text: { type: 'mrkdwn', text: slackEscape(o.text).slice(0, 3000) } });
  if (o.fields.length > 0)
    blocks.push({
      type: 'section',
      // Slack takes at most 10 fields per section.
      fields: o.fields
        .slice(0, 10)
        .map((f) => ({ type: 'mrkdwn', text: `*${slackEscape(f.name)}*\n${slackEscape(f.value)}` })),
    });
  if (o.link)
    blocks.push({
      type: 'actions',
      elements: [{ type: 'button', text: { type: 'plain_text', text: o.link.title || 'Open' }, url: o.link.url }],
    });
  return { text: o.title ? `${o.title}: ${o.text}` : o.text, blocks };
}

const JIRA_PRIORITY: Readonly<Record<string, string>> = {
  High: 'High',
  Medium: 'Medium',
  Low: 'Low',
  Informational: 'Lowest',
};

export function jiraIssue(o: {
  project: string;
  title: string;
  description: string;
  issueType: string;
  priority: string | null;
  labels: string[];
  fields: Record<string, unknown>;
}): unknown {
  const priority = o.priority ? (JIRA_PRIORITY[o.priority] ?? o.priority) : null;
  return {
    fields: {
      project: { key: o.project },
      summary: o.title.replace(/[\r\n]+/g, ' ').slice(0, 255),
      description: o.description,
      issuetype: { name: o.issueType },
      // Jira labels cannot contain spaces.
      ...(o.labels.length > 0 ? { labels: o.labels.map((l) => l.replace(/\s+/g, '-')) } : {}),
      ...(priority ? { priority: { name: priority } } : {}),
      ...o.fields,
    },
  };
}

export function genericTicket(o: {
  title: string;
  description: string;
  severity: string | null;
  labels: string[];
  incident: unknown;
  fields: Record<string, unknown>;
}): unknown {
  return {
    title: o.title,
    description: o.description,
    severity: o.severity,
    labels: o.labels,
    incident: o.incident,
    source: 'vigil',
    ...o.fields,
  };
}
