// SPDX-License-Identifier: GPL-2.0-or-later
/* exported init */
'use strict';

// Test helper for tests/shell-extension/screenshot.sh, never installed. Once the
// Shell is up it drives the Phyllome menu as a user would and takes two screenshots:
//  1. Start of $PHYLLOME_SHOT_START (allowed by polkit, but it cannot run here),
//     then the menu open with the submenu of $PHYLLOME_SHOT_MACHINE: $PHYLLOME_SHOT;
//  2. Start of $PHYLLOME_SHOT_ASK (polkit wants a password): $PHYLLOME_SHOT_ASK_FILE.
// It logs "PHYLLOME_SHOT ..." lines (the menu's items, the notifications shown),
// and "PHYLLOME_SHOT done" at the end or "PHYLLOME_SHOT failed: why".

const { Clutter, Gio, GLib, Shell, St } = imports.gi;
const Main = imports.ui.main;

function say(message) {
    log(`PHYLLOME_SHOT ${message}`);
}

function later(ms) {
    return new Promise(resolve => GLib.timeout_add(GLib.PRIORITY_DEFAULT, ms, () => {
        resolve();
        return GLib.SOURCE_REMOVE;
    }));
}

function shoot(path) {
    const stream = Gio.File.new_for_path(path).replace(null, false, Gio.FileCreateFlags.NONE, null);
    return new Promise((resolve, reject) => {
        new Shell.Screenshot().screenshot(false, stream, (screenshot, result) => {
            try {
                screenshot.screenshot_finish(result);
                stream.close(null);
                resolve();
            } catch (e) {
                reject(e);
            }
        });
    });
}

function indicator() {
    const button = Main.panel.statusArea['phyllome@phyllome.org'];
    if (!button)
        throw new Error('the Phyllome indicator is not in the panel');
    return button;
}

// The texts of the labels on screen in an actor, depth first.
function labels(actor) {
    const own = actor instanceof St.Label && actor.mapped && actor.text ? [actor.text] : [];
    return own.concat(actor.get_children().flatMap(labels));
}

function clickStart(name) {
    const item = indicator()._items.get(name);
    if (!item)
        throw new Error(`no menu item for ${name}`);
    item._start.activate(Clutter.get_current_event());
    say(`clicked Start of ${name}`);
}

async function run() {
    // The startup animation, the overview and the Shell's own notifications go first.
    await later(4000);
    Main.overview.hide();
    Main.messageTray.getSources().forEach(source => source.destroy());
    await later(500);

    clickStart(GLib.getenv('PHYLLOME_SHOT_START'));
    await later(3000);
    const shown = Main.messageTray.getSources().flatMap(source => source.notifications)
        .map(n => `${n.title} | ${n.bannerBodyText}`);
    say(`notifications: ${JSON.stringify(shown)}`);
    const button = indicator();
    button.menu.open(false);
    button._items.get(GLib.getenv('PHYLLOME_SHOT_MACHINE'))?.setSubmenuShown(true);
    say(`menu: ${[...button._items.keys()].join(' ')}`);
    const item = button._items.get(GLib.getenv('PHYLLOME_SHOT_MACHINE'));
    if (item)
        say(`actions: ${item.menu._getMenuItems().map(i => i.label?.text).join(' ')}`);
    await later(1500);
    await shoot(GLib.getenv('PHYLLOME_SHOT'));

    button.menu.close(false);
    clickStart(GLib.getenv('PHYLLOME_SHOT_ASK'));
    await later(3000);
    const texts = Main.layoutManager.modalDialogGroup.get_children().flatMap(labels);
    say(`dialog: ${texts.join(' | ')}`);
    await shoot(GLib.getenv('PHYLLOME_SHOT_ASK_FILE'));
    say('done');
}

function init() {
    return {
        enable() {
            run().catch(e => say(`failed: ${e.message}`));
        },
        disable() {},
    };
}
