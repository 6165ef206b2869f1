Bupdated.fusion.out_proj.biasJ æÃãAĞ§¿ñxõI
Æ?zNçæÍĞ¿Í?7Àè¥?