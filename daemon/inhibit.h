/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "daemon.h"

/*
 * Host sleep and shutdown: while machines run, phyllomed holds a logind delay
 * inhibitor for both. Before the host sleeps it pauses the running machines
 * (and resumes them when the host wakes up); before it shuts down it stops them
 * cleanly within logind's inhibitor delay. The inhibitor is let go as soon as
 * that is done, so the host never waits longer than it must.
 */
Inhibitor *inhibitor_new(Daemon *daemon);
void inhibitor_free(Inhibitor *inhibitor);
/* A machine's state changed: takes or lets go of the inhibitor as needed. NULL is ignored. */
void inhibitor_update(Inhibitor *inhibitor);
/* Between logind's PrepareForShutdown and the end: nothing should start now. */
gboolean inhibitor_shutting_down(Inhibitor *inhibitor);
