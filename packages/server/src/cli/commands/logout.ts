/**
 * `vigil logout`: revokes the API token `vigil login` created and forgets the saved login.
 */
import { type Command, EXIT } from '../command.js';
import { configPath, forgetLogin, Remote, readLogin } from '../remote.js';

export const command: Command = {
  name: 'logout',
  summary: 'Revoke the token vigil login saved and forget it',
  usage: `Usage: vigil logout

Revokes the API token saved by 'vigil login' on its server (when the login created it) and deletes the saved
login ($VIGIL_CONFIG, default ~/.config/vigil/cli.json).`,
  options: {},

  async run(_args, io) {
    const saved = await readLogin();
    if (!saved) {
      io.stderr.write(`Not signed in (no ${configPath()}).\n`);
      return EXIT.ok;
    }
    if (saved.tokenId) {
      const remote = new Remote(saved.server, saved.token, saved.workspace ?? 'default');
      try {
        await remote.call('DELETE', `/api/tokens/${encodeURIComponent(saved.tokenId)}`, { accept: [204, 401, 404] });
      } catch (e) {
        // The server may be gone for good; the local credential is forgotten all the same.
        io.stderr.write(`vigil logout: could not revoke the token on ${saved.server}: ${(e as Error).message}\n`);
      }
    }
    await forgetLogin();
    io.stderr.write(`Signed out of ${saved.server}.\n`);
    return EXIT.ok;
  },
};
