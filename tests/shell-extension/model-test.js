// SPDX-License-Identifier: GPL-2.0-or-later
// The GNOME Shell extension's D-Bus model (vmModel.js) against a real phyllomed:
//   gjs model-test.js EXTENSION_DIR MACHINE
// MACHINE must exist and be stopped; a machine named MACHINE-new must not exist.
// Prints "PASS what" or "FAIL what: why" per check, then "DONE"; the caller
// (tests/daemon/daemon.sh) turns them into TAP. State changes made elsewhere
// (by phyllomectl) must reach the model within a second.
'use strict';

const { GLib } = imports.gi;

imports.searchPath.unshift(ARGV[0]);
const { VmModel } = imports.vmModel;

const name = ARGV[1];
const WITHIN_MS = 1000;
const loop = new GLib.MainLoop(null, false);

function report(ok, what, why = '') {
    print(ok ? `PASS ${what}` : `FAIL ${what}${why ? `: ${why}` : ''}`);
}

// Resolves to the milliseconds it took for predicate() to hold, or -1 after ms.
function waitFor(model, predicate, ms) {
    const start = GLib.get_monotonic_time();
    return new Promise(resolve => {
        const elapsed = () => Math.round((GLib.get_monotonic_time() - start) / 1000);
        if (predicate()) {
            resolve(elapsed());
            return;
        }
        let timer = 0;
        const ids = [];
        const done = result => {
            ids.forEach(id => model.disconnect(id));
            if (timer)
                GLib.source_remove(timer);
            resolve(result);
        };
        const check = () => {
            if (predicate())
                done(elapsed());
        };
        ids.push(model.connect('changed', check), model.connect('machine-changed', check));
        timer = GLib.timeout_add(GLib.PRIORITY_DEFAULT, ms, () => {
            timer = 0;
            done(-1);
            return GLib.SOURCE_REMOVE;
        });
    });
}

// Runs phyllomectl with ARGS to completion: a change the model did not make.
function phyllomectl(...args) {
    const [, out, err, status] = GLib.spawn_sync(null, ['phyllomectl', '--no-ask-password', ...args], null,
        GLib.SpawnFlags.SEARCH_PATH, null);
    if (status !== 0)
        throw new Error(`phyllomectl ${args.join(' ')}: ${new TextDecoder().decode(err)}${new TextDecoder().decode(out)}`);
}

async function seen(model, what, predicate) {
    const ms = await waitFor(model, predicate, WITHIN_MS);
    report(ms >= 0, `${what} (${ms >= 0 ? `${ms} ms` : `not within ${WITHIN_MS} ms`})`);
}

const stateOf = (model, n) => model.machine(n)?.state;

async function main() {
    const model = new VmModel();
    await model.ready;
    report(model.daemonRunning, 'the model finds phyllomed on the system bus');
    const listed = model.machine(name);
    report(listed !== null && listed.state === 'stopped', `it lists ${name}, stopped`,
        JSON.stringify(model.machines.map(m => [m.name, m.state])));

    await model.start(name);
    await seen(model, 'start through the model: the model shows it running', () => stateOf(model, name) === 'running');

    phyllomectl('pause', name);
    await seen(model, 'a pause made elsewhere reaches the model', () => stateOf(model, name) === 'paused');
    phyllomectl('resume', name);
    await seen(model, 'a resume made elsewhere reaches the model', () => stateOf(model, name) === 'running');

    await model.stop(name);
    await seen(model, 'stop through the model: the model shows it stopped', () => stateOf(model, name) === 'stopped');

    try {
        await model.stop(name);
        report(false, 'stopping a stopped machine fails with phyllomed\'s message', 'it succeeded');
    } catch (e) {
        report(e.message.includes('is not running') && !e.message.includes('GDBus.Error'),
            'stopping a stopped machine fails with phyllomed\'s message', e.message);
    }

    const added = `${name}-new`;
    phyllomectl('create', added, '--kernel', '/nonexistent-kernel', '--memory', '64M');
    await seen(model, 'a machine defined elsewhere appears in the model', () => model.machine(added) !== null);
    phyllomectl('remove', added);
    await seen(model, 'a machine removed elsewhere leaves the model', () => model.machine(added) === null);
    model.destroy();
}

main().catch(e => report(false, 'the model test ran to its end', e.message)).finally(() => {
    print('DONE');
    loop.quit();
});
loop.run();
