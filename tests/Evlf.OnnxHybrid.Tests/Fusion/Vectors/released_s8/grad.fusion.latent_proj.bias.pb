Bgrad.fusion.latent_proj.biasJ€''ãhxs•?À~•v’¿d—¼Ï­ D¿4¬Y^]¿<<Xr/x?æ%¼Ê“?3íör?ûjvÅÑb?mwl,j¿«¿Soíˆp?ï£ê·;’?íúš”‘„¿$ ½I(„¿8«ü&y?·x
Uúny¿fé‡ø`\¿