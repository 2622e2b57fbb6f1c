// Imported first by the command-line tool, so that its handlers are in place before
// onnxruntime-node loads: SIGINT exits 130 with "Interrupted.", SIGTERM 143 with "Terminated.",
// one line on stderr and no stack trace, as the Python CLI does.

import { EXIT } from './errors.js';
import { text } from './messages.js';

function onSignal(message, code) {
  return () => {
    process.stderr.write(`${message}\n`);
    process.exit(code);
  };
}

process.on('SIGINT', onSignal(text('cli.interrupted'), EXIT.interrupted));
process.on('SIGTERM', onSignal(text('cli.terminated'), EXIT.terminated));
