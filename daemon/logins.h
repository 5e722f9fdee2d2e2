/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "daemon.h"

/*
 * Autostart: machines with Autostart=boot start when phyllomed first starts in
 * a boot; machines with Autostart=login follow their owner's login sessions as
 * systemd-logind reports them (UserNew, SessionNew, SessionRemoved,
 * UserRemoved): started when the owner's first session begins, stopped
 * cleanly (StopOnLogout, after StopOnLogoutDelay) when the last one ends.
 */
Logins *logins_new(Daemon *daemon);
void logins_free(Logins *logins);
