/** Users and roles of the workspace (Reader, Responder, Contributor, Owner, plus the Approver grant). */
import { useState } from 'react';
import { api } from '../../api/client.js';
import { type Member, ROLES, type Role } from '../../api/types.js';
import { useTitle } from '../../app/router.js';
import { useApp, useLoad } from '../../app/state.js';
import { Avatar, Card, ErrorBox, Field, Modal, Spinner, Toggle } from '../../ui/components.js';
import { Icon } from '../../ui/icons.js';

const ROLE_TEXT: Record<Role, string> = {
  Reader: 'Read everything and hunt',
  Responder: 'Plus triage: assign, status, comment, run playbooks',
  Contributor: 'Plus rules, automation, connectors',
  Owner: 'Plus users and roles, the audit log',
};

export default function UsersPage() {
  useTitle('Users and roles');
  const { toast, me, workspace } = useApp();
  const members = useLoad(() => api.members().then((p) => p.items), [workspace]);
  const [adding, setAdding] = useState(false);
  const change = async (m: Member, patch: { role?: Role; approver?: boolean }) => {
    try {
      await api.setMember(m.user.id, patch);
      toast(`${m.user.displayName || m.user.name} updated`);
      members.reload();
    } catch (e) {
      toast((e as Error).message, true);
    }
  };
  return (
    <div className="page">
      <div className="page-head">
        <div>
          <h1>Users and roles</h1>
          <div className="sub">Workspace {workspace}: who may read, triage, author and approve</div>
        </div>
        <div className="actions">
          <button type="button" className="btn primary" onClick={() => setAdding(true)}>
            <Icon name="plus" /> Add user
          </button>
        </div>
      </div>
      <div className="grid2" style={{ gridTemplateColumns: 'minmax(0,1fr) 320px', alignItems: 'start' }}>
        <Card title="Members" flush>
          {members.error ? (
            <div className="card-body">
              <ErrorBox error={members.error} />
            </div>
          ) : !members.data ? (
            <div className="card-body">
              <Spinner />
            </div>
          ) : (
            <table className="table">
              <thead>
                <tr>
                  <th>User</th>
                  <th>Role</th>
                  <th>Approver</th>
                  <th>Status</th>
                </tr>
              </thead>
              <tbody>
                {members.data.map((m) => (
                  <tr key={m.user.id}>
                    <td>
                      <div className="row">
                        <Avatar name={m.user.displayName || m.user.name} />
                        <div>
                          <div style={{ fontWeight: 500 }}>
                            {m.user.displayName || m.user.name}
                            {m.user.id === me?.user.id && <span className="muted small"> (you)</span>}
                          </div>
                          <div className="muted small">{m.user.email ?? m.user.name}</div>
                        </div>
                      </div>
                    </td>
                    <td>
                      <select
                        className="select"
                        value={m.role}
                        aria-label={`Role of ${m.user.name}`}
                        onChange={(e) => change(m, { role: e.target.value as Role })}
                      >
                        {ROLES.map((r) => (
                          <option key={r}>{r}</option>
                        ))}
                      </select>
                    </td>
                    <td>
                      <Toggle
                        on={m.approver}
                        label={`Approver ${m.user.name}`}
                        onChange={(v) => change(m, { approver: v })}
                      />
                    </td>
                    <td className="small">
                      {m.user.disabled ? <span className="bad">Disabled</span> : <span className="ok">Active</span>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Card>
        <Card title="Roles">
          <div className="stack tight small">
            {ROLES.map((r) => (
              <div key={r}>
                <strong>{r}</strong>
                <div className="muted">{ROLE_TEXT[r]}</div>
              </div>
            ))}
            <div>
              <strong>Approver</strong>
              <div className="muted">
                Decides destructive actions (isolate a device, disable a user); granted separately from roles.
              </div>
            </div>
          </div>
        </Card>
      </div>
      {adding && <AddUser onClose={() => setAdding(false)} onDone={members.reload} />}
    </div>
  );
}

function AddUser({ onClose, onDone }: { onClose: () => void; onDone: () => void }) {
  const { toast } = useApp();
  const [name, setName] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('Responder');
  const [approver, setApprover] = useState(false);
  const [code, setCode] = useState<string | null>(null);
  const add = async () => {
    try {
      const m = await api.createUser({
        name: name.trim(),
        ...(displayName ? { displayName } : {}),
        ...(email ? { email } : {}),
        role,
        approver,
      });
      onDone();
      if (m.setupCode) setCode(m.setupCode);
      else onClose();
      toast(`${name} added as ${role}`);
    } catch (e) {
      toast((e as Error).message, true);
    }
  };
  return (
    <Modal
      title="Add a user"
      onClose={onClose}
      footer={
        code ? (
          <button type="button" className="btn primary" onClick={onClose}>
            Done
          </button>
        ) : (
          <>
            <button type="button" className="btn" onClick={onClose}>
              Cancel
            </button>
            <button type="button" className="btn primary" disabled={!name.trim()} onClick={add}>
              Add
            </button>
          </>
        )
      }
    >
      {code ? (
        <div className="stack">
          <span>Give this one-time setup code to {name}: they set their password with it on the sign-in page.</span>
          <pre className="mono" style={{ padding: 12, background: 'var(--bg-sunken)', borderRadius: 6 }}>
            {code}
          </pre>
        </div>
      ) : (
        <div className="stack">
          <Field label="Sign-in name">
            <input className="input" value={name} onChange={(e) => setName(e.target.value)} />
          </Field>
          <Field label="Display name">
            <input className="input" value={displayName} onChange={(e) => setDisplayName(e.target.value)} />
          </Field>
          <Field label="E-mail" hint="optional">
            <input className="input" value={email} onChange={(e) => setEmail(e.target.value)} />
          </Field>
          <Field label="Role">
            <select className="select" value={role} onChange={(e) => setRole(e.target.value as Role)}>
              {ROLES.map((r) => (
                <option key={r}>{r}</option>
              ))}
            </select>
          </Field>
          <label className="row">
            <input type="checkbox" checked={approver} onChange={(e) => setApprover(e.target.checked)} /> Approver
            (decides destructive actions)
          </label>
        </div>
      )}
    </Modal>
  );
}
