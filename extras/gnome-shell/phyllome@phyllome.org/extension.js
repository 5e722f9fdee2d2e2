// SPDX-License-Identifier: GPL-2.0-or-later
/* exported init */
'use strict';

// A top-bar menu of the user's Phyllome virtual machines: each with its state,
// kept live by vmModel.js, and Start, Stop, Show (its screen, in
// phyllome-viewer) and Console. Written for GNOME Shell
// 43 and 44 (legacy imports); README.md says what a GNOME 45 port changes.

const { Clutter, GLib, GObject, St } = imports.gi;
const ExtensionUtils = imports.misc.extensionUtils;
const Main = imports.ui.main;
const PanelMenu = imports.ui.panelMenu;
const PopupMenu = imports.ui.popupMenu;

const Me = ExtensionUtils.getCurrentExtension();
const { VmModel } = Me.imports.vmModel;
const _ = ExtensionUtils.gettext;

// The state names phyllomed uses, as the menu shows them.
function stateLabel(state) {
    switch (state) {
    case 'running': return _('Running');
    case 'paused': return _('Paused');
    case 'starting': return _('Starting');
    case 'stopping': return _('Stopping');
    case 'failed': return _('Failed');
    default: return _('Stopped');
    }
}

// A terminal running `phyllomectl console NAME`: the first one found of those GNOME users have.
function openConsole(name) {
    const terminals = [
        ['gnome-terminal', '--'],
        ['kgx', '-e'],
        ['gnome-console', '-e'],
        ['x-terminal-emulator', '-e'],
    ];
    for (const [program, separator] of terminals) {
        const path = GLib.find_program_in_path(program);
        if (!path)
            continue;
        try {
            GLib.spawn_async(null, [path, separator, 'phyllomectl', 'console', name], null,
                GLib.SpawnFlags.DEFAULT, null);
        } catch (e) {
            Main.notifyError(_('Cannot open the console of “%s”').format(name), e.message);
        }
        return;
    }
    Main.notifyError(_('Cannot open the console of “%s”').format(name),
        _('No terminal found (gnome-terminal, kgx or x-terminal-emulator)'));
}

// The machine's screen in phyllome-viewer, which asks phyllomed (and polkit) for it.
function openViewer(name) {
    const failure = _('Cannot show “%s”').format(name);
    const path = GLib.find_program_in_path('phyllome-viewer');
    if (!path) {
        Main.notifyError(failure, _('phyllome-viewer is not installed'));
        return;
    }
    try {
        GLib.spawn_async(null, [path, '--', name], null, GLib.SpawnFlags.DEFAULT, null);
    } catch (e) {
        Main.notifyError(failure, e.message);
    }
}

const MachineItem = GObject.registerClass(
class MachineItem extends PopupMenu.PopupSubMenuMenuItem {
    _init(model, machine) {
        super._init(machine.name, true);
        this.icon.icon_name = 'computer-symbolic';
        this._stateLabel = new St.Label({
            style_class: 'phyllome-state',
            y_align: Clutter.ActorAlign.CENTER,
            x_expand: true,
            x_align: Clutter.ActorAlign.END,
        });
        this.insert_child_below(this._stateLabel, this._triangleBin);
        this._model = model;
        this._name = machine.name;
        this._start = this.menu.addAction(_('Start'), () => this._act('start', _('Cannot start “%s”')));
        this._stop = this.menu.addAction(_('Stop'), () => this._act('stop', _('Cannot stop “%s”')));
        this._show = this.menu.addAction(_('Show'), () => openViewer(this._name));
        this._console = this.menu.addAction(_('Console'), () => openConsole(this._name));
        this.update(machine);
    }

    update(machine) {
        const live = ['running', 'paused'].includes(machine.state);
        this._stateLabel.text = stateLabel(machine.state);
        this._start.setSensitive(['stopped', 'failed'].includes(machine.state));
        this._stop.setSensitive(live);
        this._show.setSensitive(live);
        this._console.setSensitive(live);
    }

    _act(method, failure) {
        this._model[method](this._name).catch(e => Main.notifyError(failure.format(this._name), e.message));
    }
});

const Indicator = GObject.registerClass(
class Indicator extends PanelMenu.Button {
    _init() {
        super._init(0.0, _('Virtual Machines'));
        this.add_child(new St.Icon({ icon_name: 'computer-symbolic', style_class: 'system-status-icon' }));
        this._items = new Map();
        this._model = new VmModel();
        this._model.connect('changed', () => this._rebuild());
        this._model.connect('machine-changed', (_m, name) => this._update(name));
        this._model.ready.catch(e => logError(e, 'Phyllome: cannot watch phyllomed'));
        this._rebuild();
    }

    _rebuild() {
        this.menu.removeAll();
        this._items.clear();
        const title = new PopupMenu.PopupMenuItem(_('Virtual Machines'), { reactive: false });
        title.label.add_style_class_name('phyllome-title');
        this.menu.addMenuItem(title);
        if (!this._model.daemonRunning) {
            this.menu.addMenuItem(new PopupMenu.PopupMenuItem(_('Phyllome is not running'), { reactive: false }));
            return;
        }
        const machines = this._model.machines;
        if (machines.length === 0)
            this.menu.addMenuItem(new PopupMenu.PopupMenuItem(_('No virtual machines'), { reactive: false }));
        for (const machine of machines) {
            const item = new MachineItem(this._model, machine);
            this._items.set(machine.name, item);
            this.menu.addMenuItem(item);
        }
    }

    _update(name) {
        const machine = this._model.machine(name);
        const item = this._items.get(name);
        if (machine && item)
            item.update(machine);
        else
            this._rebuild();
    }

    destroy() {
        this._model.destroy();
        super.destroy();
    }
});

class Extension {
    enable() {
        this._indicator = new Indicator();
        Main.panel.addToStatusArea(Me.metadata.uuid, this._indicator);
    }

    disable() {
        this._indicator.destroy();
        this._indicator = null;
    }
}

function init() {
    ExtensionUtils.initTranslations();
    return new Extension();
}
