B"updated.fusion.layers.0.norm1.biasJ€ÀƒíN}°¿êxá
+ı¿!²Vúúg?0H{Ñ‚?2ú9Ñ\K¦¿Úëğ´ËE¡¿† 8¿	v¿{ÑC„Ã´¿ßû|/R?x’Qêñ•?r~TÔ¦®¿{Z”Ñf€«?&İéF%¯¿ëap^„¿iÁ\pÌ-²?¡Âg­¿