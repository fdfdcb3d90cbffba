"""The Python side of a bench's PyWorker (harness.ts): one JSON command per
line on stdin, one JSON reply per line on stdout. `handlers` maps each op to
a function of the command returning the reply; 'quit' ends the loop, and an
exception becomes {"error": ...}, which the TypeScript side raises."""
import json
import sys


def serve(handlers):
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd.get('op') == 'quit':
            break
        try:
            handler = handlers.get(cmd.get('op'))
            reply = handler(cmd) if handler else {'error': 'unknown op %r' % cmd.get('op')}
        except Exception as e:  # reported to the TS side, which stops
            reply = {'error': repr(e)}
        sys.stdout.write(json.dumps(reply) + '\n')
        sys.stdout.flush()
