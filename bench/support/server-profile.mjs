// Preloaded into the server by `bench/browser-sync.ts --profile` (NODE_OPTIONS=--import …): records a
// CPU profile of the whole server process and writes it to $LODESTONE_SERVER_PROFILE when the
// server is told to stop (SIGTERM/SIGINT; registered before server.ts's own handlers, so it runs first).
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const file = process.env.LODESTONE_SERVER_PROFILE;
if (file) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable', () => session.post('Profiler.start'));
  let written = false;
  const write = () => {
    if (written) return;
    written = true;
    // An in-process inspector session answers synchronously, before the server's handler exits.
    session.post('Profiler.stop', (err, result) => {
      if (!err) writeFileSync(file, JSON.stringify(result.profile));
    });
  };
  process.on('SIGTERM', write);
  process.on('SIGINT', write);
}
