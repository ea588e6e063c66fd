#include "window.h"

bool rg_window_enter(rg_window *w)
{
    if (w->limit && w->active >= w->limit)
        return false;
    w->active++;
    return true;
}

void rg_window_leave(rg_window *w)
{
    if (w->active > 0)
        w->active--;
}

void rg_window_return(rg_window *w)
{
    w->active++;
}
