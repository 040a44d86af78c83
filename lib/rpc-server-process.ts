// The process startRpcServer() starts: ggml's RPC server for this machine's devices, until its
// parent stops it (SIGTERM) or goes away. Its argument is the JSON of the server's settings.
import { addon } from './binding.js';

interface Settings {
  endpoint: string;
  threads?: number;
  cacheDir?: string;
  devices?: string[];
}

const settings = JSON.parse(process.argv[2] ?? '{}') as Settings;
// The parent gone, nothing stops the server: end at once (the server thread never returns, so no
// orderly exit could wait for it).
process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'));
try {
  await addon().rpcServe(settings.endpoint, {
    ...(settings.threads === undefined ? {} : { threads: settings.threads }),
    ...(settings.cacheDir === undefined ? {} : { cacheDir: settings.cacheDir }),
    ...(settings.devices === undefined ? {} : { devices: settings.devices }),
  });
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
}
