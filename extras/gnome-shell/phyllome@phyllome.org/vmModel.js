// SPDX-License-Identifier: GPL-2.0-or-later
/* exported VmModel */
'use strict';

// The machines phyllomed exports, kept current from its ObjectManager and
// PropertiesChanged signals (never polled), and the methods the menu calls.
// Nothing here touches the Shell's UI: tests run it under plain gjs.

const { Gio, GLib } = imports.gi;
const Signals = imports.signals;

const BUS_NAME = 'org.phyllome.VM1';
const MANAGER_PATH = '/org/phyllome/VM1';
const MACHINE_IFACE = 'org.phyllome.VM1.Machine';

// Stop waits for the guest to power off (phyllomed's stop timeout, 30 s by default).
const CALL_TIMEOUT_MS = GLib.MAXINT32;

function unpack(proxy, name, fallback) {
    const value = proxy.get_cached_property(name);
    return value ? value.deepUnpack() : fallback;
}

// Signals: 'changed' (machines came or went, or the daemon did),
// 'machine-changed' (name): one machine's properties changed.
var VmModel = class VmModel {
    constructor(bus = Gio.DBus.system) {
        this._cancellable = new Gio.Cancellable();
        this._manager = null;
        this._signalIds = [];
        this.ready = new Promise((resolve, reject) => {
            Gio.DBusObjectManagerClient.new(bus,
                // The Shell must not start the daemon; the menu says when it is not running.
                Gio.DBusObjectManagerClientFlags.DO_NOT_AUTO_START,
                BUS_NAME, MANAGER_PATH, null, this._cancellable,
                (source, result) => {
                    try {
                        this._manager = Gio.DBusObjectManagerClient.new_finish(result);
                    } catch (e) {
                        reject(e);
                        return;
                    }
                    this._connect();
                    resolve();
                    this.emit('changed');
                });
        });
    }

    _connect() {
        const m = this._manager;
        this._signalIds = [
            m.connect('object-added', () => this.emit('changed')),
            m.connect('object-removed', () => this.emit('changed')),
            m.connect('notify::name-owner', () => this.emit('changed')),
            m.connect('interface-proxy-properties-changed', (_m, _object, proxy) => {
                if (proxy.get_interface_name() === MACHINE_IFACE)
                    this.emit('machine-changed', unpack(proxy, 'Name', ''));
            }),
        ];
    }

    get daemonRunning() {
        return this._manager !== null && this._manager.name_owner !== null;
    }

    _proxy(name) {
        if (!this._manager)
            return null;
        for (const object of this._manager.get_objects()) {
            const proxy = object.get_interface(MACHINE_IFACE);
            if (proxy && unpack(proxy, 'Name', '') === name)
                return proxy;
        }
        return null;
    }

    // [{name, state, owner, autostart, result, statusText, path}], sorted by name.
    get machines() {
        if (!this._manager)
            return [];
        const list = [];
        for (const object of this._manager.get_objects()) {
            const proxy = object.get_interface(MACHINE_IFACE);
            if (!proxy)
                continue;
            list.push({
                name: unpack(proxy, 'Name', ''),
                state: unpack(proxy, 'State', 'stopped'),
                owner: unpack(proxy, 'Owner', 0),
                autostart: unpack(proxy, 'Autostart', 'no'),
                result: unpack(proxy, 'Result', ''),
                statusText: unpack(proxy, 'StatusText', ''),
                path: object.get_object_path(),
            });
        }
        return list.sort((a, b) => a.name.localeCompare(b.name));
    }

    machine(name) {
        return this.machines.find(m => m.name === name) ?? null;
    }

    // Resolves when phyllomed has done it; rejects with an Error whose message
    // is phyllomed's own. Polkit may ask the user through the Shell's agent.
    _call(name, method) {
        const proxy = this._proxy(name);
        if (!proxy)
            return Promise.reject(new Error(`No machine named '${name}'`));
        const options = new GLib.Variant('(a{sv})', [{ interactive: new GLib.Variant('b', true) }]);
        return new Promise((resolve, reject) => {
            proxy.call(method, options, Gio.DBusCallFlags.ALLOW_INTERACTIVE_AUTHORIZATION,
                CALL_TIMEOUT_MS, this._cancellable, (p, result) => {
                    try {
                        p.call_finish(result);
                        resolve();
                    } catch (e) {
                        if (e instanceof GLib.Error)
                            Gio.DBusError.strip_remote_error(e);
                        reject(new Error(e.message));
                    }
                });
        });
    }

    start(name) {
        return this._call(name, 'Start');
    }

    stop(name) {
        return this._call(name, 'Stop');
    }

    destroy() {
        this._cancellable.cancel();
        if (this._manager) {
            for (const id of this._signalIds)
                this._manager.disconnect(id);
        }
        this._signalIds = [];
        this._manager = null;
    }
};
Signals.addSignalMethods(VmModel.prototype);
